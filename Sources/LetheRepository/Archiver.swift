import Foundation
import Glibc
import LetheStore

/// Backs up one tenant's sources into its repository as one new snapshot.
///
/// Files whose size, modification time, status-change time and inode match the parent
/// snapshot are not read again: their content list is reused. A file is read between two
/// `fstat`s of its descriptor; if its size, modification or status-change time moved, it is
/// read once more, and if it moves again the snapshot keeps the second read with a warning
/// (the backup is partial), never a torn copy in silence. Another name of a file with several
/// links, met again in the same run, reuses the first name's content. Everything else is cut into
/// chunks, named by keyed MAC, deduplicated against the repository, and packed. The order of
/// writes is packs, then the index file, then the snapshot, so a crash at any moment leaves
/// no visible partial snapshot.
public final class Archiver {
    public struct Options {
        public var host: String
        public var time: Date
        public var program: String
        /// Where a SQLite source's consistent copy is made (removed after use).
        public var temporaryDirectory: String
        /// Called now and then with the running totals.
        public var progress: ((BackupSummary) -> Void)?
        /// Called after each read of a file and before its descriptor is checked again, with
        /// the file's path. For tests that change a file while it is read.
        var afterReadingFile: ((String) throws -> Void)?

        public init(host: String, time: Date, program: String, temporaryDirectory: String, progress: ((BackupSummary) -> Void)? = nil) {
            self.host = host
            self.time = time
            self.program = program
            self.temporaryDirectory = temporaryDirectory
            self.progress = progress
        }
    }

    /// A finished backup: the snapshot, and what was new (for the catalog).
    public struct Result {
        public let snapshotID: SnapshotID
        public let snapshot: Snapshot
        public let newIndexID: IndexID?
        public let newIndex: IndexContents
        public let newTrees: [BlobID: Tree]
    }

    private let repository: Repository
    private let writer: BlobWriter
    private let stream: ChunkStream
    private let options: Options
    private var summary = BackupSummary()
    private var newTrees: [BlobID: Tree] = [:]
    private var lastProgress = 0
    /// The content of each file with several links read in this run, by device and inode, with
    /// how many of its other names may still come (it is forgotten when none may).
    private var linkedContent: [LinkedFile: (version: FileVersion, content: [BlobID], size: Int, namesLeft: Int)] = [:]

    private struct LinkedFile: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    /// What tells one version of a file's content from the next without reading it.
    private struct FileVersion: Equatable {
        let size: Int64
        let modified: FileTime
        let changed: FileTime

        init(_ info: stat) {
            size = Int64(info.st_size)
            modified = FileTime(info.st_mtim)
            changed = FileTime(info.st_ctim)
        }
    }

    public init(repository: Repository, options: Options) {
        self.repository = repository
        writer = BlobWriter(repository: repository)
        stream = ChunkStream(chunker: repository.chunker)
        self.options = options
    }

    public func backup(sources: [TenantSource], parent: (id: SnapshotID, snapshot: Snapshot)?) throws -> Result {
        try repository.loadIndex()
        var previousRoot: Tree?
        if let treeID = parent?.snapshot.treeID {
            do {
                previousRoot = try repository.loadTree(treeID)
            } catch {
                summary.errors.append("parent snapshot \(parent!.id.short) is unreadable, every file is read again: \(error)")
            }
        }
        var rootNodes: [Node] = []
        var rootAttributes: DirectoryAttributes?
        for source in sources {
            if let problem = source.problem() { throw LetheError.failed("source \(source): \(problem)") }
            switch source.kind {
            case .directory:
                if let name = source.entryName {
                    let previous = previousRoot?.node(named: name)
                    if let node = try directoryNode(path: source.location, name: name, previous: previous, isSourceRoot: true) {
                        rootNodes.append(node)
                    }
                } else {
                    var info = stat()
                    guard stat(source.location, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                        throw LetheError.failed("source \(source) is not a readable directory")
                    }
                    // The root stands for the first directory whose entries it lists.
                    if rootAttributes == nil {
                        rootAttributes = DirectoryAttributes(
                            mode: UInt32(info.st_mode & 0o7777), uid: info.st_uid, gid: info.st_gid, modified: FileTime(info.st_mtim))
                    }
                    rootNodes += try entries(of: source.location, previous: previousRoot)
                }
            case .sqlite:
                rootNodes.append(try sqliteNode(source))
            case .command:
                rootNodes.append(try commandNode(source))
            }
        }
        // Names are compared as bytes: "café" in NFC and in NFD are two files.
        var seen = Set<[UInt8]>()
        for node in rootNodes where !seen.insert(Array(node.name.utf8)).inserted {
            throw LetheError.usage("two sources put \"\(node.name)\" at the root of the snapshot; name them apart with NAME=KIND:ARG")
        }
        let rootID = try saveTree(Tree(nodes: rootNodes, attributes: rootAttributes))
        let (newIndexID, newIndex) = try writer.commit()
        summary.bytesAdded = writer.bytesAdded
        summary.blobsAdded = writer.blobsAdded
        summary.packsWritten = writer.packsWritten
        summary.bytesStored = writer.bytesStored
        // Snapshots order by time; a snapshot is never older than its parent, even when the
        // clock is coarse, stepped back, or fixed (LETHE_NOW in tests).
        // Times are stored to the millisecond, so the comparison is made in whole milliseconds.
        var milliseconds = (options.time.timeIntervalSince1970 * 1000).rounded(.down)
        if let parentTime = parent.flatMap({ Timestamp.parse($0.snapshot.time) }) {
            milliseconds = max(milliseconds, (parentTime.timeIntervalSince1970 * 1000).rounded() + 1)
        }
        // Half a millisecond in, so that formatting (which truncates) prints this millisecond.
        let time = Date(timeIntervalSince1970: (milliseconds + 0.5) / 1000)
        var snapshot = Snapshot(
            tenant: repository.tenant.rawValue, time: Timestamp.formatPrecise(time), tree: rootID.hex,
            parent: parent?.id.hex, host: options.host, sources: sources.map(\.description),
            program: options.program, summary: summary)
        let (id, size) = try repository.saveSnapshot(snapshot)
        snapshot.summary.bytesStored += size
        FaultPoint.reach("backup.snapshot-written")
        return Result(snapshotID: id, snapshot: snapshot, newIndexID: newIndexID, newIndex: newIndex, newTrees: newTrees)
    }

    // MARK: Trees

    private func saveTree(_ tree: Tree) throws -> BlobID {
        let bytes = tree.encoded()
        let id = try repository.keys.blobID(for: bytes)
        if !writer.contains(id) {
            try bytes.withUnsafeBytes { try writer.save($0, id: id, type: .tree) }
            newTrees[id] = tree
        }
        return id
    }

    /// The nodes of a directory's entries, compared against `previous`.
    private func entries(of path: String, previous: Tree?) throws -> [Node] {
        var nodes: [Node] = []
        for entry in try DirectoryEntries.list(path) {
            guard let name = entry.name else {
                summary.errors.append("\(path)/\(String(decoding: entry.raw, as: UTF8.self)): name is not valid UTF-8, not backed up")
                continue
            }
            let child = path == "/" ? "/\(name)" : "\(path)/\(name)"
            if let node = try node(path: child, name: name, previous: previous?.node(named: name)) {
                nodes.append(node)
            }
        }
        return nodes
    }

    private func node(path: String, name: String, previous: Node?) throws -> Node? {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno != ENOENT { summary.errors.append(SystemError("inspect", path).description) }
            return nil
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            return try fileNode(path: path, name: name, info: info, previous: previous)
        case S_IFDIR:
            return try directoryNode(path: path, name: name, previous: previous, isSourceRoot: false)
        case S_IFLNK:
            return symlinkNode(path: path, name: name, info: info)
        default:
            summary.errors.append("\(path): not a regular file, directory or symbolic link, not backed up")
            return nil
        }
    }

    private func directoryNode(path: String, name: String, previous: Node?, isSourceRoot: Bool) throws -> Node? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            if isSourceRoot { throw LetheError.failed("source directory \(path) is not readable: \(SystemError("inspect", path))") }
            summary.errors.append(SystemError("inspect", path).description)
            return nil
        }
        var previousTree: Tree?
        if let subtree = previous?.subtree, previous?.kind == .directory {
            previousTree = try? repository.loadTree(subtree)
        }
        let children: [Node]
        do {
            children = try entries(of: path, previous: previousTree)
        } catch let error as SystemError {
            if isSourceRoot { throw LetheError.failed("source directory \(path) is not readable: \(error)") }
            summary.errors.append(error.description)
            return nil
        }
        summary.directories += 1
        var node = baseNode(name: name, kind: .directory, info: info)
        node.subtree = try saveTree(Tree(nodes: children))
        return node
    }

    private func symlinkNode(path: String, name: String, info: stat) -> Node? {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = buffer.withUnsafeMutableBufferPointer { readlink(path, UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count) }
        guard length >= 0 else {
            summary.errors.append(SystemError("read link", path).description)
            return nil
        }
        guard let target = String(validating: buffer[0..<length], as: UTF8.self) else {
            summary.errors.append("\(path): link target is not valid UTF-8, not backed up")
            return nil
        }
        var node = baseNode(name: name, kind: .symlink, info: info)
        node.target = target
        return node
    }

    private func fileNode(path: String, name: String, info: stat, previous: Node?) throws -> Node? {
        var node = baseNode(name: name, kind: .file, info: info)
        node.size = Int(info.st_size)
        if let previous, previous.kind == .file, previous.size == node.size, previous.modified == node.modified,
           previous.changed == node.changed, previous.inode == node.inode,
           previous.content.allSatisfy(writer.contains) {
            node.content = previous.content
            summary.filesUnchanged += 1
            summary.bytesTotal += node.size
            reportProgress()
            return node
        }
        let key = LinkedFile(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        if info.st_nlink > 1, let known = linkedContent[key], known.version == FileVersion(info) {
            node.content = known.content
            node.size = known.size
            linkedContent[key] = known.namesLeft > 1 ? (known.version, known.content, known.size, known.namesLeft - 1) : nil
        } else {
            let file: OwnedFile
            do {
                file = try Archiver.openForReading(path)
            } catch let error as SystemError {
                if !error.isNotFound { summary.errors.append(error.description) }
                return nil
            }
            do {
                let read = try readSteadily(file, path: path)
                guard (read.info.st_mode & S_IFMT) == S_IFREG else {
                    summary.errors.append("\(path): was replaced by something other than a file while it was read, not backed up")
                    return nil
                }
                node = baseNode(name: name, kind: .file, info: read.info)
                node.content = read.content
                node.size = read.size
                if read.steady {
                    if node.links > 1 {
                        linkedContent[key] = (FileVersion(read.info), read.content, read.size, Int(node.links) - 1)
                    }
                } else {
                    summary.warnings.append("\(path): changed while it was read, twice; the snapshot holds the second read, which may mix old and new content")
                }
            } catch let error as SystemError {
                summary.errors.append(error.description)
                return nil
            }
        }
        if previous == nil { summary.filesNew += 1 } else { summary.filesChanged += 1 }
        summary.bytesTotal += node.size
        reportProgress()
        return node
    }

    /// Reads `file` between two `fstat`s of its descriptor, and once more from the start if
    /// its size, modification or status-change time moved in between. Returns the last read,
    /// the status taken before it (the version the content is of, at best), and whether the
    /// file held still during it. (A change that keeps the size and lands within the same
    /// tick of the file system's clock cannot be seen this way.)
    private func readSteadily(_ file: OwnedFile, path: String) throws -> (content: [BlobID], size: Int, info: stat, steady: Bool) {
        var attempt = 1
        while true {
            let before = try file.status()
            let (content, size) = try readContent(file)
            try options.afterReadingFile?(path)
            let after = try file.status()
            let steady = FileVersion(before) == FileVersion(after)
            if steady || attempt == 2 { return (content, size, before, steady) }
            attempt += 1
            guard lseek(file.descriptor, 0, SEEK_SET) == 0 else { throw SystemError("seek", path) }
        }
    }

    /// Chunks, names and stores everything `file` yields; returns the blob list and size.
    private func readContent(_ file: OwnedFile) throws -> ([BlobID], Int) {
        stream.reset(file)
        var content: [BlobID] = []
        var size = 0
        while try stream.next({ chunk in
            do {
                content.append(try writer.save(chunk, type: .data))
            } catch {
                // Not this file's fault: the store could not take the write (a full disk). It
                // ends the backup, rather than being noted against the file and carrying on.
                throw StoreWriteFailure(underlying: error)
            }
            size += chunk.count
            reportProgress(partial: size)
        }) {}
        summary.bytesRead += size
        return (content, size)
    }

    /// A write to the store that failed during a backup, kept apart from the read errors of
    /// single files (which are noted and skipped).
    struct StoreWriteFailure: KindedError, CustomStringConvertible {
        let underlying: Error
        var kind: ErrorKind { (underlying as? KindedError)?.kind ?? .failed }
        var description: String { "writing to the store failed: \(underlying)" }
    }

    /// Linux's O_NOATIME (glibc exposes it only under _GNU_SOURCE): reading a file for backup
    /// should not update its access time.
    private static let noAccessTime: Int32 = 0o1000000

    static func openForReading(_ path: String) throws -> OwnedFile {
        do {
            return try OwnedFile(path: path, flags: O_RDONLY | O_NOFOLLOW | noAccessTime)
        } catch let error as SystemError where error.code == EPERM {
            // O_NOATIME is only allowed to the file's owner.
            return try OwnedFile(path: path, flags: O_RDONLY | O_NOFOLLOW)
        }
    }

    private func baseNode(name: String, kind: Node.Kind, info: stat) -> Node {
        var node = Node(
            name: name, kind: kind, mode: UInt32(info.st_mode & 0o7777), uid: info.st_uid, gid: info.st_gid,
            modified: FileTime(info.st_mtim), changed: FileTime(info.st_ctim), inode: UInt64(info.st_ino))
        // Only a regular file's links are restored as links.
        if kind == .file, info.st_nlink > 1 {
            node.links = UInt64(info.st_nlink)
            node.device = UInt64(info.st_dev)
        }
        return node
    }

    /// `partial`: bytes read so far of the file being read, which the summary counts only once
    /// the file is done; a large file then moves the line while it is read.
    private func reportProgress(partial: Int = 0) {
        guard let progress = options.progress else { return }
        // Every 8 MiB or 256 files gone through, read or found unchanged: what a progress
        // line measures against the scanned total.
        let done = summary.bytesTotal + partial
        if done - lastProgress >= 8 << 20 || (partial == 0 && summary.files % 256 == 0) {
            lastProgress = done
            var now = summary
            now.bytesTotal += partial
            now.bytesRead += partial
            progress(now)
        }
    }

    // MARK: Database and command sources

    private func sqliteNode(_ source: TenantSource) throws -> Node {
        var info = stat()
        guard stat(source.location, &info) == 0 else {
            throw LetheError.failed("source \(source): \(SystemError("inspect", source.location))")
        }
        try FileSystem.makeDirectories(options.temporaryDirectory)
        let copy = "\(options.temporaryDirectory)/\(UInt64.random(in: 0...UInt64.max)).sqlite"
        defer { try? FileSystem.removeFile(copy) }
        do {
            try SourceDatabaseCopy.copy(source.location, to: copy)
        } catch let error as SQLiteError {
            throw LetheError.failed("source \(source): consistent copy failed: \(error.message) (SQLite error \(error.code))")
        }
        let file = try OwnedFile(path: copy, flags: O_RDONLY)
        var node = baseNode(name: source.entryName!, kind: .file, info: info)
        (node.content, node.size) = try readContent(file)
        node.changed = node.modified
        node.inode = 0
        // The content is a copy's, not the file's: it is no link of anything.
        node.links = 1
        node.device = 0
        summary.filesChanged += 1
        summary.bytesTotal += node.size
        return node
    }

    private func commandNode(_ source: TenantSource) throws -> Node {
        try FileSystem.makeDirectories(options.temporaryDirectory)
        let errorLog = "\(options.temporaryDirectory)/\(UInt64.random(in: 0...UInt64.max)).stderr"
        defer { try? FileSystem.removeFile(errorLog) }
        _ = FileManager.default.createFile(atPath: errorLog, contents: nil, attributes: [.posixPermissions: 0o600])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", source.location]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: errorLog)
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw LetheError.failed("source \(source) did not start: \(error)")
        }
        let reader = try OwnedFile(adopting: dup(output.fileHandleForReading.fileDescriptor), path: "output of \(source)")
        try? output.fileHandleForReading.close()
        let (content, size) = try readContent(reader)
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let log = (try? FileSystem.readFile(errorLog, limit: 1 << 20)) ?? []
            let last = String(decoding: log, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
            throw LetheError.failed(
                "source \(source) failed with status \(process.terminationStatus)" + (last.isEmpty ? "" : ": \(last)"))
        }
        if size == 0 {
            summary.warnings.append("source \(source) printed nothing: an empty file was stored for it")
        }
        let now = FileTime(seconds: Int64(options.time.timeIntervalSince1970), nanoseconds: 0)
        var node = Node(name: source.entryName!, kind: .file, mode: 0o600, uid: getuid(), gid: getgid(), modified: now, changed: now)
        node.content = content
        node.size = size
        summary.filesChanged += 1
        summary.bytesTotal += size
        return node
    }
}
