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
/// The file workers share the target's handle and the directories' identities, both fixed
/// before they start, and each walks with its own cursor; hence `@unchecked Sendable`.
final class RestoreWriter: @unchecked Sendable {
    private let plan: Restorer.Plan
    private let target: DirectoryHandle
    private let restoreOwnership = geteuid() == 0
    private var identities: [DirectoryCursor.Identity?] = []
    private let tally: ErasureTally

    init(plan: Restorer.Plan, target: DirectoryHandle, tally: ErasureTally) {
        self.plan = plan
        self.target = target
        self.tally = tally
    }

    func run() throws {
        try createDirectories()
        try writeFiles()
        try createSymlinks()
        try applyDirectoryMetadata()
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
                    try self.restoreFile(jobs[index], rules: self.plan.contentRules[index], cursor: cursor)
                } catch {
                    failures.record(error)
                }
            }
        }
        if let error = failures.first { throw error }
    }

    /// Writes one file; with erasure `rules`, its whole content is read and the rules applied
    /// before the first byte reaches the temporary file, so that the rows they remove never
    /// touch the target's disk.
    private func restoreFile(_ entry: Restorer.Entry, rules: [ErasureFilter.Rule]?, cursor: DirectoryCursor) throws {
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
                try plan.repository.readContent(of: node, path: directory.path(of: node.name)) { content += $0 }
                let (erased, changed) = try ErasureFilter.apply(rules, to: content, path: path)
                try file.write(erased)
                progress?(node.size, 0)
                tally.add(changed, for: path)
            } else {
                try plan.repository.readContent(of: node, path: directory.path(of: node.name)) {
                    try file.write($0)
                    progress?($0.count, 0)
                }
            }
            // Owner first (chown clears setuid bits), then permissions, then the time, which
            // any other change would bump.
            if restoreOwnership { try? file.setOwner(uid: node.uid, gid: node.gid) }
            try file.setPermissions(mode_t(node.mode))
            try file.setModificationTime(node.modified.timespec)
            try file.close()
            try replace(node.name, with: temporary, in: directory)
            plan.options.progress?(0, 1)
        } catch {
            try? directory.remove(temporary)
            throw error
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

/// The first error any worker hit.
final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: Error?

    var first: Error? { lock.withLock { error } }

    func record(_ failure: Error) {
        lock.withLock { if error == nil { error = failure } }
    }
}
