import CLinux
import Glibc

/// File operations with the durability Lethe promises: nothing that matters is ever visible
/// half-written.
///
/// `writeAtomically` is the one way Lethe replaces a file: write a temporary file beside the
/// target, fsync it, rename it over the target, fsync the directory. A crash at any point
/// leaves either the old file or the new one, never a mixture, and never a torn write.
///
/// These functions work by path and follow symbolic links. Key files never go through them:
/// `KeyDirectory` reads, writes and destroys those relative to a checked directory descriptor.
public enum FileSystem {
    /// Writes `bytes` to `path` atomically and durably, with permissions `mode`.
    public static func writeAtomically(_ bytes: UnsafeRawBufferPointer, to path: String, mode: mode_t = 0o600) throws {
        let directory = parent(of: path)
        let temporary = "\(directory)/.\(basename(of: path)).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            let file = try OwnedFile(path: temporary, flags: O_WRONLY | O_CREAT | O_EXCL, mode: mode)
            try file.write(bytes)
            // The mode given to open() is filtered by the umask; set it exactly.
            guard fchmod(file.descriptor, mode) == 0 else { throw SystemError("chmod", temporary) }
            try file.sync()
            try file.close()
            try rename(temporary, to: path)
        } catch {
            unlink(temporary)
            throw error
        }
        try syncDirectory(directory)
    }

    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws {
        try bytes.withUnsafeBytes { try writeAtomically($0, to: path, mode: mode) }
    }

    /// Renames `source` to `target` (same file system), replacing `target`.
    public static func rename(_ source: String, to target: String) throws {
        guard Glibc.rename(source, target) == 0 else { throw SystemError("rename \(source) to", target) }
    }

    /// The whole contents of the file at `path`. Refuses files larger than `limit` bytes so
    /// that a damaged or hostile file cannot exhaust memory.
    public static func readFile(_ path: String, limit: Int = 1 << 30) throws -> [UInt8] {
        let file = try OwnedFile(path: path, flags: O_RDONLY)
        let size = Int(try file.status().st_size)
        guard size <= limit else { throw SystemError("read (larger than \(limit) bytes)", path, code: EFBIG) }
        var bytes = [UInt8](repeating: 0, count: size)
        let count = try bytes.withUnsafeMutableBytes { try file.readFully(into: $0) }
        if count < size { bytes.removeSubrange(count...) }
        return bytes
    }

    /// Flushes a directory's entries (a rename or unlink within it) to stable storage.
    public static func syncDirectory(_ path: String) throws {
        let directory = try OwnedFile(path: path, flags: O_RDONLY | O_DIRECTORY)
        try directory.sync()
    }

    /// Flushes the whole file system that holds `directory` (`syncfs`): one barrier for many
    /// writes, where an fsync each would wait for the journal each time. It reports the
    /// write-back errors since `directory` was opened: open it before the writes.
    public static func syncFileSystem(_ directory: OwnedFile) throws {
        guard clinux_syncfs(directory.descriptor) == 0 else { throw SystemError("syncfs", directory.path) }
    }

    /// Whether `syncfs` on the file system holding `path` makes writes durable and reports
    /// their failure: Linux 5.8 or later (before, it returned 0 whatever write-back met), and
    /// not FUSE or NFS, whose syncfs is missing or weaker.
    public static func syncfsIsReliable(at path: String) -> Bool {
        var names = utsname()
        guard uname(&names) == 0 else { return false }
        let release = withUnsafeBytes(of: names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard numbers.count == 2, (numbers[0], numbers[1]) >= (5, 8) else { return false }
        var type = 0
        guard clinux_filesystem_type(path, &type) == 0 else { return false }
        let fuse = 0x6573_5546, nfs = 0x6969
        return type != fuse && type != nfs
    }

    /// Creates `path` and any missing parents with `mode`, syncing each parent that gained an
    /// entry. An existing directory is not an error.
    ///
    /// Safe against a concurrent remover of empty directories (`LocalStore.delete` prunes the
    /// folders it empties): a parent that vanishes between two steps is created again, a few
    /// times, instead of failing with ENOENT.
    /// With `syncing` false the parents are not synced: for a caller that flushes the whole
    /// file system afterwards (`LocalStore.put(_:)` of many objects).
    public static func makeDirectories(_ path: String, mode: mode_t = 0o700, syncing: Bool = true) throws {
        if isDirectory(path) { return }
        let up = parent(of: path)
        for _ in 0..<concurrentRemovalRetries {
            if mkdir(path, mode) == 0 {
                // The parent may already be gone again (emptied by a remover); then there is
                // nothing left to make durable, and the caller's own retry creates it anew.
                if syncing {
                    do { try syncDirectory(up) } catch let error as SystemError where error.isNotFound {}
                }
                return
            }
            switch errno {
            case EEXIST:
                guard isDirectory(path) else { throw SystemError("create directory", path, code: ENOTDIR) }
                return
            case ENOENT where up != path:
                try makeDirectories(up, mode: mode, syncing: syncing)
            default:
                throw SystemError("create directory", path)
            }
        }
        throw SystemError("create directory", path, code: ENOENT)
    }

    /// How often a step is retried when a concurrent remover took away the folder it needs.
    /// Each retry needs another remover to empty the folder in the microseconds between two
    /// system calls; a handful is plenty, and the bound keeps a real ENOENT from looping.
    static let concurrentRemovalRetries = 16

    /// Runs `place` (a `rename` or `link` into `directory`), creating the directory first and
    /// again whenever `place` fails with ENOENT because a concurrent remover pruned it.
    public static func placing(into directory: String, syncing: Bool = true, _ place: () throws -> Void) throws {
        var attempt = 0
        while true {
            try makeDirectories(directory, syncing: syncing)
            do {
                return try place()
            } catch let error as SystemError where error.isNotFound && attempt < concurrentRemovalRetries {
                attempt += 1
            }
        }
    }

    /// Removes the file at `path` and syncs its directory. A missing file is not an error:
    /// removal is idempotent, which is what resumable operations need.
    public static func removeFile(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else { throw SystemError("remove", path) }
        try? syncDirectory(parent(of: path))
    }

    /// Removes `path` and everything below it, depth first. A missing path is not an error.
    public static func removeTree(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw SystemError("inspect", path)
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in try listDirectory(path) {
                try removeTree("\(path)/\(name)")
            }
            guard rmdir(path) == 0 || errno == ENOENT else { throw SystemError("remove directory", path) }
        } else {
            guard unlink(path) == 0 || errno == ENOENT else { throw SystemError("remove", path) }
        }
        try? syncDirectory(parent(of: path))
    }

    /// The names in a directory, except `.` and `..`, in byte order.
    public static func listDirectory(_ path: String) throws -> [String] {
        guard let stream = opendir(path) else { throw SystemError("list", path) }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// `lstat` of `path`, or nil if there is nothing there.
    public static func status(_ path: String) throws -> stat? {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw SystemError("inspect", path)
        }
        return info
    }

    /// The directory part of `path` ("." for a bare name).
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    public static func basename(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// `path` made absolute against the current directory.
    public static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let cwd = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return path == "." ? cwd : "\(cwd)/\(path)"
    }
}
