import Glibc

/// The embedded default `ObjectStore`: one file per object below a root directory.
///
/// A `put` is written to `<root>/.staging/`, fsynced, renamed into place and the directory
/// fsynced, so an object is either absent or whole. A staging name is the object key with `/`
/// spelled `#`, then `@`, the process id, `.` and a random number
/// (`tenants#acme#data#3f#3f9a…@4711.8830…`): neither `#` nor `@` occurs in a key component,
/// so the name says exactly which key it was, and `discardIncompleteWrites` finds a crashed
/// write of a given tenant without touching one whose id merely starts the same way
/// (`alpha.old` for `alpha`). Deleting the last object in a directory removes the directory
/// too, up to the top-level one (`locks`, `tenants`), which stays: a deleted tenant leaves no
/// empty folder bearing its name, and the folder every tenant shares is never pruned under a
/// writer. A writer whose own tenant's folder is pruned under it (by another holder of that
/// tenant's locks) creates it again (`FileSystem.placing(into:)`), so the two never race.
public struct LocalStore: ObjectStore {
    public let root: String

    public init(root: String) throws {
        self.root = root
        try FileSystem.makeDirectories(root)
        try FileSystem.makeDirectories(stagingDirectory)
    }

    public var location: String { "file://\(root)" }

    private var stagingDirectory: String { "\(root)/.staging" }

    private func path(_ key: ObjectKey) -> String { "\(root)/\(key.rawValue)" }

    /// The key as it begins a staging name: `/` spelled `#`.
    private func stagingPrefix(_ key: ObjectKey) -> String {
        key.rawValue.replacingOccurrences(of: "/", with: "#")
    }

    /// Ends the key in a staging name; like `#`, it cannot occur in a key.
    private static let stagingSeparator = "@"

    public func put(_ key: ObjectKey, _ bytes: [UInt8]) throws {
        let writer = try self.writer(for: key)
        try writer.write(bytes)
        try writer.commit()
    }

    /// A new staging file's name for `key`: its key, the process and a random number.
    private func stagingPath(_ key: ObjectKey) -> String {
        "\(stagingDirectory)/\(stagingPrefix(key))\(LocalStore.stagingSeparator)\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
    }

    /// Every staging file is written without a flush of its own; one `syncfs` makes them all
    /// durable before any is renamed into place, and a second makes the renames and new
    /// folders durable. Two flushes of the file system, where a `put` each costs three fsyncs
    /// (file, folder, new folder's parent): 30,000 for a 10,000-tenant import, which spent
    /// most of its 40 s waiting on them. A crash before the end leaves each object absent or
    /// whole, as a `put` does, and staging files that `discardIncompleteWrites` removes. Where
    /// `syncfs` cannot be relied on (`FileSystem.syncfsIsReliable`), a `put` each.
    public func put(_ objects: [(key: ObjectKey, bytes: [UInt8])]) throws {
        guard !objects.isEmpty else { return }
        guard FileSystem.syncfsIsReliable(at: root) else {
            for (key, bytes) in objects { try put(key, bytes) }
            return
        }
        // Opened before the writes, so that its syncfs reports their write-back errors.
        let rootDirectory = try OwnedFile(path: root, flags: O_RDONLY | O_DIRECTORY)
        var staged: [(staging: String, target: String)] = []
        // A staging file renamed into place is no longer there to unlink.
        defer { for file in staged { unlink(file.staging) } }
        for (key, bytes) in objects {
            let staging = stagingPath(key)
            let file = try OwnedFile(path: staging, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
            staged.append((staging, path(key)))
            do {
                try file.write(bytes)
                try file.close()
            } catch let error as SystemError {
                throw SystemError(error.operation, path(key), code: error.code)
            }
        }
        try FileSystem.syncFileSystem(rootDirectory)
        for file in staged {
            try FileSystem.placing(into: FileSystem.parent(of: file.target), syncing: false) {
                try FileSystem.rename(file.staging, to: file.target)
            }
        }
        try FileSystem.syncFileSystem(rootDirectory)
    }

    public func writer(for key: ObjectKey) throws -> ObjectWriter {
        let staging = stagingPath(key)
        return LocalObjectWriter(
            file: try OwnedFile(path: staging, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600),
            staging: staging, target: path(key))
    }

    public func get(_ key: ObjectKey) throws -> [UInt8] {
        do {
            return try FileSystem.readFile(path(key), limit: Int.max)
        } catch let error as SystemError where error.isNotFound {
            throw ObjectNotFound(key: key)
        }
    }

    public func get(_ key: ObjectKey, range: Range<Int>) throws -> [UInt8] {
        let file: OwnedFile
        do {
            file = try OwnedFile(path: path(key), flags: O_RDONLY)
        } catch let error as SystemError where error.isNotFound {
            throw ObjectNotFound(key: key)
        }
        let size = Int(try file.status().st_size)
        guard range.upperBound <= size else { throw ObjectTooShort(key: key, size: size, wanted: range) }
        var bytes = [UInt8](repeating: 0, count: range.count)
        try bytes.withUnsafeMutableBytes { try file.read(into: $0, at: range.lowerBound) }
        return bytes
    }

    public func size(of key: ObjectKey) throws -> Int? {
        guard let info = try FileSystem.status(path(key)), (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    public func list(prefix: ObjectKey) throws -> [ObjectInfo] {
        var found: [ObjectInfo] = []
        try collect(prefix, into: &found)
        return found.sorted { $0.key < $1.key }
    }

    private func collect(_ key: ObjectKey, into found: inout [ObjectInfo]) throws {
        guard let info = try FileSystem.status(path(key)) else { return }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            found.append(ObjectInfo(key: key, size: Int(info.st_size)))
        case S_IFDIR:
            for name in try FileSystem.listDirectory(path(key)) where ObjectKey.isValidComponent(Substring(name)) {
                try collect(try key.appending(name), into: &found)
            }
        default:
            break
        }
    }

    public func children(of prefix: ObjectKey) throws -> [String] {
        guard FileSystem.isDirectory(path(prefix)) else { return [] }
        return try FileSystem.listDirectory(path(prefix)).filter { ObjectKey.isValidComponent(Substring($0)) }
    }

    public func delete(_ key: ObjectKey) throws {
        try FileSystem.removeFile(path(key))
        // Remove directories left empty, up to (not including) the top-level one (`locks`,
        // `tenants`, …), which every tenant's objects share: it is never removed, so a writer
        // creating its tenant's folder in it never finds it gone. Pruning it, left empty for an
        // instant between two tenants' locks, lost a 10,000-tenant night a tenant now and then.
        var directory = FileSystem.parent(of: path(key))
        let topLevel = "\(root)/\(key.rawValue.prefix { $0 != "/" })"
        while directory.count > topLevel.count, directory.hasPrefix(topLevel + "/") {
            guard rmdir(directory) == 0 else { break }
            let up = FileSystem.parent(of: directory)
            try? FileSystem.syncDirectory(up)
            directory = up
        }
    }

    /// Writes a staging file, then `link`s it to the target: `link` fails with EEXIST when a
    /// name is there, atomically, which is the create-if-absent the protocol asks for.
    public func create(_ key: ObjectKey, _ bytes: [UInt8]) throws -> Bool {
        let staging = stagingPath(key)
        defer { unlink(staging) }
        let file = try OwnedFile(path: staging, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
        try file.write(bytes)
        try file.sync()
        try file.close()
        let target = path(key)
        var created = true
        try FileSystem.placing(into: FileSystem.parent(of: target)) {
            guard link(staging, target) == 0 else {
                if errno == EEXIST { created = false; return }
                throw SystemError("create", target)
            }
        }
        if created { try FileSystem.syncDirectory(FileSystem.parent(of: target)) }
        return created
    }

    public func delete(_ keys: [ObjectKey]) throws {
        for key in keys { try delete(key) }
    }

    /// A directory keeps no old versions.
    public func versioning() throws -> Versioning { .unversioned }

    public func versions(prefix: ObjectKey) throws -> [ObjectVersion] {
        try list(prefix: prefix).map { ObjectVersion(key: $0.key, versionID: nil, isDeleteMarker: false, size: $0.size) }
    }

    public func delete(_ version: ObjectVersion) throws {
        try delete(version.key)
    }

    /// Every entry under `prefix` that is not a regular file (those are its objects): links,
    /// folders, anything else, which deletion of the objects would leave behind.
    public func remainder(prefix: ObjectKey) throws -> [String] {
        var found: [String] = []
        func walk(_ path: String, _ name: String) throws {
            guard let info = try FileSystem.status(path) else { return }
            switch info.st_mode & S_IFMT {
            case S_IFREG: return
            case S_IFDIR:
                found.append(name + "/")
                for child in try FileSystem.listDirectory(path) { try walk("\(path)/\(child)", "\(name)/\(child)") }
            default:
                found.append(name)
            }
        }
        try walk(path(prefix), prefix.rawValue)
        // A folder that holds objects is theirs; an empty one (or one no key can name) remains.
        return try found.filter { entry in
            guard entry.hasSuffix("/"), let folder = try? ObjectKey(String(entry.dropLast())) else { return true }
            return try list(prefix: folder).isEmpty
        }
    }

    /// Nothing in a directory is locked against deletion.
    public func holds(prefix: ObjectKey) throws -> [RetentionHold] { [] }

    /// Removes the staging files of `prefix` itself and of every key below it: names that
    /// continue the prefix with `@` (the key ends there) or `#` (a `/`), never with another
    /// key character.
    public func discardIncompleteWrites(prefix: ObjectKey) throws {
        for name in try incompleteWrites(prefix: prefix) {
            try FileSystem.removeFile("\(stagingDirectory)/\(name)")
        }
    }

    public func hasIncompleteWrites(prefix: ObjectKey) throws -> Bool {
        try !incompleteWrites(prefix: prefix).isEmpty
    }

    private func incompleteWrites(prefix: ObjectKey) throws -> [String] {
        let start = stagingPrefix(prefix)
        return try FileSystem.listDirectory(stagingDirectory).filter { name in
            name.hasPrefix(start + LocalStore.stagingSeparator) || name.hasPrefix(start + "#")
        }
    }
}

/// A `LocalStore` object being written: a staging file, fsynced and renamed into place at
/// `commit()`, removed on `abort()` or if released uncommitted.
final class LocalObjectWriter: ObjectWriter {
    private let file: OwnedFile
    private let staging: String
    private let target: String
    private var finished = false

    init(file: OwnedFile, staging: String, target: String) {
        self.file = file
        self.staging = staging
        self.target = target
    }

    deinit {
        if !finished { abort() }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        // A writer that failed once was aborted; writing on would be a bug of the caller's,
        // reported as an error rather than a trap.
        guard !finished else { throw SystemError("write (the object was already abandoned)", target, code: EBADF) }
        do {
            try file.write(bytes)
        } catch let error as SystemError {
            abort()
            // Named after the object, not the staging file it was being written to.
            throw SystemError(error.operation, target, code: error.code)
        }
    }

    func commit() throws {
        guard !finished else { throw SystemError("commit (the object was already abandoned)", target, code: EBADF) }
        do {
            try file.sync()
            try file.close()
            try FileSystem.placing(into: FileSystem.parent(of: target)) { try FileSystem.rename(staging, to: target) }
        } catch {
            abort()
            throw error
        }
        finished = true
        try FileSystem.syncDirectory(FileSystem.parent(of: target))
    }

    func abort() {
        guard !finished else { return }
        finished = true
        try? file.close()
        unlink(staging)
    }
}
