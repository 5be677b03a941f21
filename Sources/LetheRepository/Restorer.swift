import Glibc
import LetheStore

/// Restores a snapshot (or one path of it) into a directory: contents byte for byte,
/// permissions (setuid, setgid and sticky included), modification times to the nanosecond,
/// symbolic links, empty directories, and ownership when running as root.
///
/// A restore has two steps, so that the audit entry saying what leaves the repository (how
/// many files, how many bytes) can be made durable before anything does: `plan` reads the
/// snapshot's trees and writes nothing, `execute` writes what the plan lists. `restore` does
/// both.
///
/// Nothing is ever written outside the target, even as root into a directory that others can
/// write to while the restore runs: the target is resolved once, and below it every directory
/// is opened without following links and worked on through its descriptor (see
/// `RestoreWriter`). A directory swapped for a link, or moved, stops the restore with an error
/// naming it.
///
/// Every blob is authenticated as it is read, and a file is written under a temporary name and
/// renamed into place only when complete, so a file that exists under its real name is whole.
/// Directories are created first, files are written by two workers, links come next, and
/// directory permissions and times are applied last, deepest first, so that writing into a
/// directory does not disturb its restored time.
public final class Restorer {
    public struct Options {
        public var target: String
        /// A path inside the snapshot (`docs/contract.pdf`); nil restores everything.
        public var subpath: String?
        /// Restore into a directory that already has entries, replacing same-named files. An
        /// entry standing where the snapshot has something else (a file or a link where a
        /// directory belongs) is removed, never followed.
        public var allowNonEmptyTarget: Bool
        /// Called on a file worker before each file is written, with the file's path below the
        /// target (`docs/report.txt`); an error it throws fails the restore. For tests that
        /// change the target while a restore runs.
        var beforeWritingFile: (@Sendable (String) throws -> Void)?
        /// Called on a file worker as content is written (bytes, files 0) and as each file is
        /// finished (bytes 0, files 1): for a progress line.
        public var progress: (@Sendable (_ bytes: Int, _ files: Int) -> Void)?
        /// Called once, when writing starts, with the bytes and files the plan holds.
        public var planned: (@Sendable (_ bytes: Int, _ files: Int) -> Void)?
        /// The tenant's erasure ledger: erased paths are not written, and files its rules
        /// select are written with the rules applied. Nil restores the snapshot as it is.
        public var erasure: ErasureFilter?

        public init(target: String, subpath: String? = nil, allowNonEmptyTarget: Bool = false, erasure: ErasureFilter? = nil) {
            self.target = target
            self.subpath = subpath
            self.allowNonEmptyTarget = allowNonEmptyTarget
            self.erasure = erasure
        }
    }

    public struct Summary: Codable, Sendable, Equatable {
        public var files = 0
        public var directories = 0
        public var symlinks = 0
        public var bytes = 0
        /// What the erasure ledger changed; nil when no ledger applied.
        public var erasure: ErasureOutcome?
    }

    private let repository: Repository

    public init(repository: Repository) {
        self.repository = repository
    }

    /// Reads the snapshot's trees (only the part below `options.subpath`, if given) and lists
    /// what a restore would write, without writing anything, not even the target. Fails with
    /// a usage error if the target is not a directory, is not empty (without
    /// `allowNonEmptyTarget`), or the subpath is not in the snapshot.
    public func plan(_ snapshot: Snapshot, options: Options) throws -> Plan {
        let target = Restorer.normalized(FileSystem.absolute(options.target))
        try Restorer.checkTarget(target, allowNonEmpty: options.allowNonEmptyTarget)
        try repository.loadIndex()
        return try Plan(reading: snapshot, options: options, target: target, from: repository)
    }

    /// Writes what `plan` lists into its target, creating the target if it is missing. The
    /// target is checked again, as it may have changed since the plan was made.
    public func execute(_ plan: Plan) throws -> Summary {
        try Restorer.checkTarget(plan.target, allowNonEmpty: plan.options.allowNonEmptyTarget)
        if try FileSystem.status(plan.target) == nil { try FileSystem.makeDirectories(plan.target, mode: 0o700) }
        let tally = ErasureTally()
        plan.options.planned?(plan.bytes, plan.files)
        try RestoreWriter(plan: plan, target: try DirectoryHandle(resolvingParentsOf: plan.target), tally: tally).run()
        return Summary(
            files: plan.files, directories: plan.directories, symlinks: plan.symlinks, bytes: plan.bytes,
            erasure: plan.erasure.map(tally.fill))
    }

    /// `plan`, then `execute`.
    public func restore(_ snapshot: Snapshot, options: Options) throws -> Summary {
        try execute(try plan(snapshot, options: options))
    }

    /// The target must be a directory (a link there is refused, as it names somewhere else),
    /// and empty unless the caller allows otherwise; a missing target is created by `execute`.
    private static func checkTarget(_ target: String, allowNonEmpty: Bool) throws {
        guard let info = try FileSystem.status(target) else { return }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw LetheError.usage("restore target \(target) is not a directory") }
        if !allowNonEmpty, !(try FileSystem.listDirectory(target)).isEmpty {
            throw LetheError.usage("restore target \(target) is not empty; pass --force to restore into it and replace same-named files")
        }
    }

    /// `path` without trailing slashes, which would make `lstat` follow a link at the end.
    private static func normalized(_ path: String) -> String {
        var path = path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return path
    }
}
