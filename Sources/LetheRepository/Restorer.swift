import Foundation
import Glibc
import LetheStore

/// Restores a snapshot (or one path of it) into a directory: contents byte for byte,
/// permissions, modification times, symbolic links, empty directories, and ownership when
/// running as root.
///
/// Every blob is authenticated as it is read, and a file is written under a temporary name
/// and renamed into place only when complete, so a file that exists under its real name is
/// whole. Directories are created first, files are written by two workers, and directory
/// permissions and times are applied last, deepest first, so that writing into a directory
/// does not disturb its restored time.
///
/// The file workers only read `repository` (its index is loaded before they start) and
/// `restoreOwnership`; the plan arrays are filled before and read after, hence
/// `@unchecked Sendable`.
public final class Restorer: @unchecked Sendable {
    public struct Options {
        public var target: String
        /// A path inside the snapshot (`docs/contract.pdf`); nil restores everything.
        public var subpath: String?
        /// Restore into a directory that already has entries, replacing same-named files.
        public var allowNonEmptyTarget: Bool

        public init(target: String, subpath: String? = nil, allowNonEmptyTarget: Bool = false) {
            self.target = target
            self.subpath = subpath
            self.allowNonEmptyTarget = allowNonEmptyTarget
        }
    }

    public struct Summary: Codable, Sendable, Equatable {
        public var files = 0
        public var directories = 0
        public var symlinks = 0
        public var bytes = 0
    }

    /// `UTIME_OMIT` of <sys/stat.h> (a macro Swift does not import): leave the access time.
    private static let omitTime = (1 << 30) - 2

    private let repository: Repository
    private let restoreOwnership = geteuid() == 0
    private var files: [(path: String, node: Node)] = []
    private var symlinks: [(path: String, node: Node)] = []
    private var directories: [(path: String, node: Node)] = []
    private var summary = Summary()

    public init(repository: Repository) {
        self.repository = repository
    }

    public func restore(_ snapshot: Snapshot, options: Options) throws -> Summary {
        let target = FileSystem.absolute(options.target)
        try prepareTarget(target, allowNonEmpty: options.allowNonEmptyTarget)
        try repository.loadIndex()
        guard let rootID = snapshot.treeID else { throw LetheError.integrity("snapshot has no root tree") }
        var tree = try repository.loadTree(rootID)
        var path = target
        let components = (options.subpath ?? "").split(separator: "/").map(String.init).filter { $0 != "." }
        for (position, component) in components.enumerated() {
            guard let node = tree.node(named: component) else {
                throw LetheError.usage("\(components[0...position].joined(separator: "/")) is not in the snapshot")
            }
            path += "/\(component)"
            if position == components.count - 1 {
                try plan(node, at: path)
            } else {
                guard node.kind == .directory, let subtree = node.subtree else {
                    throw LetheError.usage("\(components[0...position].joined(separator: "/")) is not a directory")
                }
                try makeDirectory(path)
                directories.append((path, node))
                tree = try repository.loadTree(subtree)
            }
        }
        if components.isEmpty {
            for node in tree.nodes { try plan(node, at: "\(target)/\(node.name)") }
        }
        try writeFiles()
        for (path, node) in symlinks { try restoreSymlink(node, at: path) }
        for (path, node) in directories.reversed() { try applyMetadata(node, at: path, descriptor: nil) }
        summary.directories = directories.count
        summary.symlinks = symlinks.count
        return summary
    }

    private func prepareTarget(_ target: String, allowNonEmpty: Bool) throws {
        if let info = try FileSystem.status(target) {
            guard (info.st_mode & S_IFMT) == S_IFDIR else { throw LetheError.usage("restore target \(target) is not a directory") }
            if !allowNonEmpty, !(try FileSystem.listDirectory(target)).isEmpty {
                throw LetheError.usage("restore target \(target) is not empty; pass --force to restore into it and replace same-named files")
            }
        } else {
            try FileSystem.makeDirectories(target, mode: 0o700)
        }
    }

    /// Walks `node`, creating directories now and queueing files, links and directory
    /// metadata for later.
    private func plan(_ node: Node, at path: String) throws {
        switch node.kind {
        case .directory:
            try makeDirectory(path)
            directories.append((path, node))
            guard let subtree = node.subtree else { throw LetheError.integrity("directory \(path) has no tree") }
            for child in try repository.loadTree(subtree).nodes {
                try plan(child, at: "\(path)/\(child.name)")
            }
        case .file:
            files.append((path, node))
        case .symlink:
            symlinks.append((path, node))
        }
    }

    /// Creates `path` as a real directory, replacing a file or link that stands there.
    private func makeDirectory(_ path: String) throws {
        if let info = try FileSystem.status(path) {
            if (info.st_mode & S_IFMT) == S_IFDIR { return }
            try FileSystem.removeFile(path)
        }
        guard mkdir(path, 0o700) == 0 else { throw SystemError("create directory", path) }
    }

    private func writeFiles() throws {
        let jobs = files
        let failures = FailureBox()
        let next = WorkCounter()
        let workers = min(2, max(1, jobs.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while failures.first == nil, let index = next.take(below: jobs.count) {
                do {
                    try self.restoreFile(jobs[index].node, at: jobs[index].path)
                } catch {
                    failures.record(error)
                }
            }
        }
        if let error = failures.first { throw error }
        summary.files = jobs.count
        summary.bytes = jobs.reduce(0) { $0 + $1.node.size }
    }

    private func restoreFile(_ node: Node, at path: String) throws {
        let directory = FileSystem.parent(of: path)
        let temporary = "\(directory)/.lethe-restore-\(UInt64.random(in: 0...UInt64.max))"
        do {
            let file = try OwnedFile(path: temporary, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
            try repository.readContent(of: node, path: path) { try file.write($0) }
            try applyMetadata(node, at: temporary, descriptor: file.descriptor)
            try file.close()
            try FileSystem.rename(temporary, to: path)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    private func restoreSymlink(_ node: Node, at path: String) throws {
        if try FileSystem.status(path) != nil { try FileSystem.removeFile(path) }
        guard symlink(node.target ?? "", path) == 0 else { throw SystemError("create symbolic link", path) }
        if restoreOwnership { _ = lchown(path, node.uid, node.gid) }
        var times = [timespec(tv_sec: 0, tv_nsec: Restorer.omitTime), node.modified.timespec]
        _ = utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
    }

    /// Owner (as root), permissions, then modification time: chown clears setuid bits, and
    /// any change to the file would bump its time, so this order matters.
    private func applyMetadata(_ node: Node, at path: String, descriptor: Int32?) throws {
        var times = [timespec(tv_sec: 0, tv_nsec: Restorer.omitTime), node.modified.timespec]
        if let descriptor {
            if restoreOwnership { _ = fchown(descriptor, node.uid, node.gid) }
            guard fchmod(descriptor, mode_t(node.mode)) == 0 else { throw SystemError("set permissions of", path) }
            guard futimens(descriptor, &times) == 0 else { throw SystemError("set times of", path) }
        } else {
            if restoreOwnership { _ = lchown(path, node.uid, node.gid) }
            guard chmod(path, mode_t(node.mode)) == 0 else { throw SystemError("set permissions of", path) }
            guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { throw SystemError("set times of", path) }
        }
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
