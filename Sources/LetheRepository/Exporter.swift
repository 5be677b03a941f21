import Foundation
import Glibc
import LetheStore

/// Writes a snapshot as a POSIX pax tar archive: the right-of-access and portability copy of a
/// tenant's data, in a format any system reads. The archive appears under its name only when
/// complete (temporary file, fsync, rename) and is created 0600, as it holds personal data.
///
/// An export has two steps, so that the audit entry saying what leaves the repository (how
/// many files, how many bytes) can be made durable before anything does: `plan` reads the
/// snapshot's trees and writes nothing, `write` writes the archive the plan lists. `export`
/// does both.
public final class Exporter {
    public struct Summary: Codable, Sendable, Equatable {
        public var files = 0
        public var directories = 0
        public var symlinks = 0
        /// Bytes of file content.
        public var bytes = 0
        /// Size of the archive.
        public var archiveBytes = 0
        /// What the erasure ledger changed; nil when no ledger applied.
        public var erasure: ErasureOutcome?
    }

    /// What an export will write, read from the snapshot's trees: the counts an audit entry
    /// records, and every entry in archive order (depth first, by name). A plan carries the
    /// repository it was read from, so `write` reads content under the same tenant's key.
    public struct Plan {
        public let files: Int
        public let directories: Int
        public let symlinks: Int
        /// Bytes of file content.
        public let bytes: Int

        let repository: Repository
        /// Each node with its depth (0 for the root's entries); the path is spelled out while
        /// writing, from the directories above it, so memory does not grow with path lengths.
        let entries: [(depth: Int, node: Node)]
        /// The erasure rules that change each file's content, by index in `entries`.
        let contentRules: [Int: [ErasureFilter.Rule]]
        /// What the erasure ledger will do (rows changed filled in by `write`), or nil.
        public let erasure: ErasureOutcome?
    }

    private let repository: Repository

    public init(repository: Repository) {
        self.repository = repository
    }

    /// Reads the snapshot's trees and lists what the archive will hold, writing nothing. With
    /// `erasure`, erased paths are left out of the plan and the files its rules select are
    /// marked to be written with the rules applied.
    public func plan(_ snapshot: Snapshot, erasure: ErasureFilter? = nil) throws -> Plan {
        guard let rootID = snapshot.treeID else { throw LetheError.integrity("snapshot has no root tree") }
        try repository.loadIndex()
        var entries: [(depth: Int, node: Node)] = []
        var files = 0, directories = 0, symlinks = 0, bytes = 0
        let filter = erasure.flatMap { $0.isEmpty ? nil : $0 }
        var outcome = filter?.outcome()
        var contentRules: [Int: [ErasureFilter.Rule]] = [:]
        // The other names of hard-linked files the ledger erases or filters.
        let hardLinks = try filter.map { try HardLinkErasure(filter: $0, root: rootID, repository: repository) }
        // The names of the directories above the entry being visited.
        var above: [String] = []
        // Depth first, by name, with the walk's own stack: what is still to visit, the next last.
        var pending = try repository.loadTree(rootID).nodes.reversed().map { (depth: 0, node: $0) }
        while let entry = pending.popLast() {
            if let filter {
                above.removeLast(above.count - entry.depth)
                let path = (above + [entry.node.name]).joined(separator: "/")
                guard let rules = try filter.treatment(of: entry.node, at: path, hardLinks: hardLinks) else {
                    outcome?.entriesLeftOut += 1
                    continue
                }
                if entry.node.kind == .directory { above.append(entry.node.name) }
                if !rules.isEmpty {
                    contentRules[entries.count] = rules
                    outcome?.files.append(ErasureOutcome.File(path: path, rules: rules.map(\.number), changed: 0))
                }
            }
            entries.append(entry)
            switch entry.node.kind {
            case .directory:
                directories += 1
                if let subtree = entry.node.subtree {
                    pending += try repository.loadTree(subtree).nodes.reversed().map { (depth: entry.depth + 1, node: $0) }
                }
            case .symlink:
                symlinks += 1
            case .file:
                files += 1
                bytes += entry.node.size
            }
        }
        return Plan(
            files: files, directories: directories, symlinks: symlinks, bytes: bytes, repository: repository, entries: entries,
            contentRules: contentRules, erasure: outcome)
    }

    /// Writes the archive `plan` lists to `path`, whose directory must exist.
    public func write(_ plan: Plan, to path: String) throws -> Summary {
        let output = FileSystem.absolute(path)
        let directory = FileSystem.parent(of: output)
        guard FileSystem.isDirectory(directory) else { throw LetheError.usage("cannot write \(output): \(directory) is not a directory") }
        let temporary = "\(directory)/.\(FileSystem.basename(of: output)).lethe-export-\(UInt64.random(in: 0...UInt64.max))"
        var summary = Summary(files: plan.files, directories: plan.directories, symlinks: plan.symlinks, bytes: plan.bytes)
        do {
            let file = try OwnedFile(path: temporary, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
            let tar = TarWriter(file: file)
            summary.erasure = try add(plan, to: tar)
            try tar.finish()
            try file.sync()
            try file.close()
            try FileSystem.rename(temporary, to: output)
            try FileSystem.syncDirectory(directory)
            summary.archiveBytes = tar.bytesWritten
        } catch {
            unlink(temporary)
            throw error
        }
        return summary
    }

    /// `plan`, then `write`.
    public func export(_ snapshot: Snapshot, to path: String) throws -> Summary {
        try write(try plan(snapshot), to: path)
    }

    /// Writes the entries; a file with erasure rules is read whole and written with them
    /// applied, its header giving the size after erasure. Another name of a hard-linked file
    /// written earlier (`Node.isHardLink(of:)`) becomes a link entry naming it, as tar writes
    /// one, rather than a second copy of its content; never a name with erasure rules, nor a
    /// link to one, since every name of a link shows the content of one.
    private func add(_ plan: Plan, to tar: TarWriter) throws -> ErasureOutcome? {
        var outcome = plan.erasure
        // The names of the directories above the entry being written.
        var above: [String] = []
        // The first entry of each file with several links, by device and inode.
        var linked: [[UInt64]: (path: String, node: Node)] = [:]
        // Files are written in the order of the entries, so their blobs are read in runs.
        let reader = CoalescedBlobReader(repository: plan.repository, order: plan.entries.flatMap { $0.node.kind == .file ? $0.node.content : [] })
        for (position, (depth, node)) in plan.entries.enumerated() {
            above.removeLast(above.count - depth)
            let path = (above + [node.name]).joined(separator: "/")
            var entry = TarWriter.Entry(
                path: path, type: .file, mode: node.mode, uid: node.uid, gid: node.gid, size: 0, modified: node.modified)
            switch node.kind {
            case .directory:
                entry.type = .directory
                entry.path += "/"
                try tar.begin(entry)
                above.append(node.name)
            case .symlink:
                entry.type = .symlink
                entry.linkTarget = node.target ?? ""
                try tar.begin(entry)
            case .file:
                if let rules = plan.contentRules[position] {
                    var content: [UInt8] = []
                    content.reserveCapacity(node.size)
                    try plan.repository.readContent(of: node, path: path, reader: reader) { content += $0 }
                    let (erased, changed) = try ErasureFilter.apply(rules, to: content, path: path)
                    if let index = outcome?.files.firstIndex(where: { $0.path == path }) { outcome?.files[index].changed = changed }
                    entry.size = erased.count
                    try tar.begin(entry)
                    try tar.writeContent(erased)
                } else {
                    if node.links > 1 {
                        let key = [node.device, node.inode]
                        if let first = linked[key], node.isHardLink(of: first.node) {
                            entry.type = .hardLink
                            entry.linkTarget = first.path
                            try tar.begin(entry)
                            continue
                        }
                        if linked[key] == nil { linked[key] = (path, node) }
                    }
                    entry.size = node.size
                    try tar.begin(entry)
                    try plan.repository.readContent(of: node, path: path, reader: reader) { try tar.writeContent($0) }
                }
                try tar.finishContent()
            }
        }
        return outcome
    }
}
