import Foundation
import Glibc
import LetheStore

/// Carries out a `Restorer.Plan` below the target's open descriptor, writing nothing outside
/// it, even when others can write to the target while the restore runs.
///
/// Every step names one entry of a directory held open (`DirectoryHandle`, walked by a
/// `DirectoryCursor` that checks each directory is still the one created): files are created
/// exclusively under a temporary name and renamed into place in the same directory, which
/// replaces a link standing there instead of writing through it; owners, permissions and
/// times go to descriptors, or to names with `AT_SYMLINK_NOFOLLOW`. With `--force`, a file or
/// link where a directory belongs is unlinked, and an empty directory where a file or link
/// belongs is removed; a non-empty one fails the restore.
///
/// Another name of a hard-linked file is made with `linkat` from the name the restore wrote,
/// once every file is written, and kept only if it leads to the very inode written there.
///
/// The file workers share the target's handle and the directories' identities, both fixed
/// before they start, and each walks with its own cursor; the identities of the files written
/// go through a lock; hence `@unchecked Sendable`.
final class RestoreWriter: @unchecked Sendable {
    private let plan: Restorer.Plan
    private let target: DirectoryHandle
    private let restoreOwnership = geteuid() == 0
    private var identities: [DirectoryCursor.Identity?] = []
    private let tally: ErasureTally
    /// The device and inode each file of `plan.fileEntries` that has other names was written to.
    private let written = WrittenFiles()
    private let linkedFiles: Set<Int>
    /// The files' blobs, read by runs in the order the files are written.
    private let reader: CoalescedBlobReader

    init(plan: Restorer.Plan, target: DirectoryHandle, tally: ErasureTally) {
        self.plan = plan
        self.target = target
        self.tally = tally
        linkedFiles = Set(plan.linkEntries.map(\.file))
        reader = CoalescedBlobReader(repository: plan.repository, order: plan.fileEntries.flatMap(\.node.content))
    }

    func run() throws {
        try createDirectories()
        try writeFiles()
        try createHardLinks()
        try createSymlinks()
        try applyDirectoryMetadata()
        try applyRootAttributes()
    }

    private func cursor() -> DirectoryCursor {
        DirectoryCursor(target: target, directories: plan.directoryEntries, identities: identities)
    }

    /// Creates each directory (parents first) or adopts one already there, and records its
    /// identity as the cursor enters it.
    private func createDirectories() throws {
        let cursor = DirectoryCursor(target: target, directories: plan.directoryEntries)
        for (index, entry) in plan.directoryEntries.enumerated() {
            let parent = try cursor.move(to: entry.parent)
            let name = entry.node.name
            if let info = try parent.status(of: name) {
                if (info.st_mode & S_IFMT) != S_IFDIR {
                    try parent.remove(name)
                    try parent.makeDirectory(name, mode: 0o700)
                }
            } else {
                try parent.makeDirectory(name, mode: 0o700)
            }
            _ = try cursor.move(to: index)
        }
        identities = cursor.identities
    }

    private func writeFiles() throws {
        let jobs = plan.fileEntries
        let failures = FailureBox()
        let next = WorkCounter()
        let workers = min(2, max(1, jobs.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            let cursor = self.cursor()
            while failures.first == nil, let index = next.take(below: jobs.count) {
                do {
                    let identity = try self.restoreFile(jobs[index], rules: self.plan.contentRules[index], cursor: cursor)
                    if self.linkedFiles.contains(index) { self.written.set(index, identity) }
                } catch {
                    failures.record(error)
                }
            }
        }
        if let error = failures.first { throw error }
    }

    /// Writes one file and returns the device and inode it was written to; with erasure
    /// `rules`, its whole content is read and the rules applied before the first byte reaches
    /// the temporary file, so that the rows they remove never touch the target's disk.
    private func restoreFile(_ entry: Restorer.Entry, rules: [ErasureFilter.Rule]?, cursor: DirectoryCursor) throws -> DirectoryCursor.Identity {
        if let hook = plan.options.beforeWritingFile { try hook(plan.path(of: entry)) }
        let directory = try cursor.move(to: entry.parent)
        try cursor.checkInPlace()
        let node = entry.node
        let temporary = RestoreWriter.temporaryName()
        let file = try directory.createFile(temporary, mode: 0o600)
        do {
            let progress = plan.options.progress
            if let rules {
                let path = plan.path(of: entry)
                var content: [UInt8] = []
                content.reserveCapacity(node.size)
                try plan.repository.readContent(of: node, path: directory.path(of: node.name), reader: reader) { content += $0 }
                let (erased, changed) = try ErasureFilter.apply(rules, to: content, path: path)
                try file.write(erased)
                progress?(node.size, 0)
                tally.add(changed, for: path)
            } else {
                try plan.repository.readContent(of: node, path: directory.path(of: node.name), reader: reader) {
                    try file.write($0)
                    progress?($0.count, 0)
                }
            }
            // Owner first (chown clears setuid bits), then permissions, then the time, which
            // any other change would bump.
            if restoreOwnership { try? file.setOwner(uid: node.uid, gid: node.gid) }
            try file.setPermissions(mode_t(node.mode))
            try file.setModificationTime(node.modified.timespec)
            let identity = DirectoryCursor.Identity(try file.status())
            try file.close()
            try replace(node.name, with: temporary, in: directory)
            plan.options.progress?(0, 1)
            return identity
        } catch {
            try? directory.remove(temporary)
            throw error
        }
    }

    /// Makes each other name of a hard-linked file, from the name the file was written under,
    /// under a temporary name first and renamed into place like a file. A link that does not
    /// lead to the inode written (the first name was replaced meanwhile) is removed, and stops
    /// the restore.
    private func createHardLinks() throws {
        guard !plan.linkEntries.isEmpty else { return }
        let cursor = cursor()
        let firstNames = self.cursor()
        for (entry, file) in plan.linkEntries {
            let first = plan.fileEntries[file]
            let source = try firstNames.move(to: first.parent)
            let directory = try cursor.move(to: entry.parent)
            try cursor.checkInPlace()
            let temporary = RestoreWriter.temporaryName()
            try source.link(first.node.name, as: temporary, in: directory)
            do {
                guard let info = try directory.status(of: temporary), (info.st_mode & S_IFMT) == S_IFREG,
                      DirectoryCursor.Identity(info) == written.get(file) else {
                    throw LetheError.failed(
                        "restore stopped: \(source.path(of: first.node.name)) was replaced while the restore ran; no link is made to what stands there now")
                }
                try replace(entry.node.name, with: temporary, in: directory)
                // A rename onto another name of the same inode does nothing, and leaves the
                // temporary name behind.
                if try directory.status(of: temporary) != nil { try directory.remove(temporary) }
                plan.options.progress?(entry.node.size, 1)
            } catch {
                try? directory.remove(temporary)
                throw error
            }
        }
    }

    private func createSymlinks() throws {
        let cursor = cursor()
        for entry in plan.symlinkEntries {
            let directory = try cursor.move(to: entry.parent)
            let node = entry.node
            let temporary = RestoreWriter.temporaryName()
            try directory.makeSymlink(temporary, to: node.target ?? "")
            do {
                if restoreOwnership { try? directory.setOwner(of: temporary, uid: node.uid, gid: node.gid) }
                try? directory.setModificationTime(of: temporary, node.modified.timespec)
                try replace(node.name, with: temporary, in: directory)
            } catch {
                try? directory.remove(temporary)
                throw error
            }
        }
    }

    /// Deepest first (the reverse of the creation order): a directory's time is set after
    /// everything inside it was written, and its permissions after its last entry was made.
    private func applyDirectoryMetadata() throws {
        let cursor = cursor()
        for index in plan.directoryEntries.indices.reversed() {
            let node = plan.directoryEntries[index].node
            let directory = try cursor.move(to: index)
            if restoreOwnership { try? directory.setOwner(uid: node.uid, gid: node.gid) }
            try directory.setPermissions(mode_t(node.mode))
            try directory.setModificationTime(node.modified.timespec)
        }
    }

    /// The snapshot root's owner, permissions and time go to the target itself, after
    /// everything in it was written.
    private func applyRootAttributes() throws {
        guard let attributes = plan.rootAttributes else { return }
        if restoreOwnership { try? target.setOwner(uid: attributes.uid, gid: attributes.gid) }
        try target.setPermissions(mode_t(attributes.mode))
        try target.setModificationTime(attributes.modified.timespec)
    }

    /// Renames `temporary` to `name`. The rename replaces a file or link standing there without
    /// following it; an (empty) directory standing there is removed first.
    private func replace(_ name: String, with temporary: String, in directory: DirectoryHandle) throws {
        if let info = try directory.status(of: name), (info.st_mode & S_IFMT) == S_IFDIR {
            try directory.removeDirectory(name)
        }
        try directory.rename(temporary, to: name)
    }

    private static func temporaryName() -> String {
        ".lethe-restore-\(UInt64.random(in: 0...UInt64.max))"
    }
}

/// The device and inode of the files written, by index, set by the file workers.
final class WrittenFiles: @unchecked Sendable {
    private let lock = NSLock()
    private var identities: [Int: DirectoryCursor.Identity] = [:]

    func set(_ index: Int, _ identity: DirectoryCursor.Identity) {
        lock.withLock { identities[index] = identity }
    }

    func get(_ index: Int) -> DirectoryCursor.Identity? {
        lock.withLock { identities[index] }
    }
}

/// The first error any worker hit.
final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: Error?

    var first: Error? { lock.withLock { error } }

    func record(_ failure: Error) {
        lock.withLock { if error == nil { error = failure } }
    }
}
