import Glibc
import LetheCrypto

/// A directory of key files (Lethe's key directory, or its `kek/` folder), opened once by
/// descriptor: every check is made on an open descriptor (`fstat`), and every file inside is
/// reached relative to it (`openat`) without following a symbolic link, so nothing can be
/// swapped between the check and the use.
///
/// The directory must be a directory (not a link to one) owned by the effective user, with no
/// group or other permission bits. A key file must be a regular file (not a link), owned by
/// the effective user, with no group or other bits and exactly one name: a second hard link
/// would be a copy of the key that destroying this name leaves behind. Anything else is
/// refused with a `KeyFileError` naming the path and saying what to do.
///
/// Owns its directory descriptor, closed when the value is released. Open one for the
/// operation at hand rather than keeping it: each opening checks the directory again.
public final class KeyDirectory {
    public let path: String
    private let directory: OwnedFile

    /// What to do when the directory is missing or loose.
    public enum Opening: Sendable {
        /// It must exist and already be private.
        case existing
        /// Created 0700, with any missing parents, if absent; an existing one must already be
        /// private.
        case creatingIfMissing
        /// As `creatingIfMissing`, but an existing directory of the user's that group or
        /// others may enter is set to 0700. Only for `lethe init`, before any key is in it: a
        /// git checkout leaves the repository's `Keys/` 0755.
        case creatingOrTightening
    }

    /// Opens the directory at `path` and checks it; a missing directory is a `SystemError`
    /// whose `isNotFound` is true (unless `opening` creates it).
    public init(_ path: String, opening: Opening = .existing) throws {
        if opening != .existing, !FileSystem.exists(path) {
            try FileSystem.makeDirectories(FileSystem.parent(of: path), mode: 0o700)
            guard mkdir(path, 0o700) == 0 || errno == EEXIST else { throw SystemError("create directory", path) }
            try FileSystem.syncDirectory(FileSystem.parent(of: path))
        }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            // O_DIRECTORY | O_NOFOLLOW reports a link as ENOTDIR; lstat only names the refusal.
            if code == ENOTDIR || code == ELOOP {
                let kind = (try? FileSystem.status(path))?.map { $0.st_mode & S_IFMT }
                throw kind == S_IFLNK ? KeyFileError.symbolicLink(path: path) : KeyFileError.notDirectory(path: path)
            }
            throw SystemError("open", path, code: code)
        }
        directory = try OwnedFile(adopting: fd, path: path)
        self.path = path
        let info = try directory.status()
        try Self.requireOwned(info, path)
        if info.st_mode & 0o077 != 0 {
            guard opening == .creatingOrTightening else {
                throw KeyFileError.insecureDirectoryMode(path: path, mode: info.st_mode & 0o777)
            }
            guard fchmod(fd, 0o700) == 0 else { throw SystemError("chmod", path) }
        }
    }

    // MARK: Reading

    /// Whether anything (a file, a link, anything else) has this name in the directory.
    public func contains(_ name: String) throws -> Bool {
        var info = stat()
        guard fstatat(directory.descriptor, Self.checked(name), &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return false }
            throw SystemError("inspect", full(name))
        }
        return true
    }

    /// The names in the directory, except `.` and `..`, in byte order.
    public func names() throws -> [String] {
        let copy = dup(directory.descriptor)
        guard copy >= 0, let stream = fdopendir(copy) else {
            let code = errno
            if copy >= 0 { _ = Glibc.close(copy) }
            throw SystemError("list", path, code: code)
        }
        defer { closedir(stream) }
        // The copy shares the original's offset: start from the beginning whatever came before.
        rewinddir(stream)
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The contents of key file `name`, checked private on its open descriptor. Larger than
    /// `limit` bytes is refused, so a damaged file cannot exhaust memory.
    public func read(_ name: String, limit: Int) throws -> [UInt8] {
        let (file, size) = try openPrivate(name, limit: limit)
        var bytes = [UInt8](repeating: 0, count: size)
        let count = try bytes.withUnsafeMutableBytes { try file.readFully(into: $0) }
        if count < size { bytes.removeSubrange(count...) }
        return bytes
    }

    /// Which file a name held when it was read, as far as `fstat` tells: another file put in
    /// its place (a rename, as every write here makes), or the same one written again, differs.
    public struct FileIdentity: Equatable, Sendable {
        let device: UInt64
        let inode: UInt64
        let size: Int64
        let modified: (Int, Int)
        let changed: (Int, Int)

        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            modified = (info.st_mtim.tv_sec, info.st_mtim.tv_nsec)
            changed = (info.st_ctim.tv_sec, info.st_ctim.tv_nsec)
        }

        public static func == (a: FileIdentity, b: FileIdentity) -> Bool {
            a.device == b.device && a.inode == b.inode && a.size == b.size && a.modified == b.modified && a.changed == b.changed
        }
    }

    /// As `read`, with the same checks on the open descriptor, but the bytes are read only if
    /// the file is not the one `known` identifies: for a caller that keeps what it verified.
    public func read(_ name: String, limit: Int, unlessStill known: FileIdentity?) throws -> (bytes: [UInt8]?, identity: FileIdentity) {
        let (file, size) = try openPrivate(name, limit: limit)
        let identity = FileIdentity(try file.status())
        if let known, known == identity { return (nil, identity) }
        var bytes = [UInt8](repeating: 0, count: size)
        let count = try bytes.withUnsafeMutableBytes { try file.readFully(into: $0) }
        if count < size { bytes.removeSubrange(count...) }
        return (bytes, identity)
    }

    /// As `read`, but straight into wiped memory: for secrets (a KEK, a private key).
    public func readSecret(_ name: String, limit: Int) throws -> SecureBytes {
        let (file, size) = try openPrivate(name, limit: limit)
        return try SecureBytes(capacity: size) { try file.readFully(into: $0) }
    }

    // MARK: Writing

    /// Replaces `name` with `bytes`, atomically and durably: a temporary file created beside it
    /// (`O_CREAT | O_EXCL | O_NOFOLLOW`), written, set to exactly `mode`, fsynced, renamed over
    /// `name` (a link there is replaced, never followed), and the directory fsynced.
    public func write(_ bytes: UnsafeRawBufferPointer, to name: String, mode: mode_t = 0o600) throws {
        let temporary = ".\(Self.checked(name)).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            let fd = openat(directory.descriptor, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw SystemError("create", full(temporary)) }
            let file = try OwnedFile(adopting: fd, path: full(temporary))
            try file.write(bytes)
            // The mode given to openat() is filtered by the umask; set it exactly.
            guard fchmod(fd, mode) == 0 else { throw SystemError("chmod", full(temporary)) }
            try file.sync()
            try file.close()
            guard renameat(directory.descriptor, temporary, directory.descriptor, name) == 0 else {
                throw SystemError("rename \(full(temporary)) to", full(name))
            }
        } catch {
            _ = unlinkat(directory.descriptor, temporary, 0)
            throw error
        }
        try directory.sync()
    }

    /// Destroys key file `name`: overwrites its contents with zeros, fsyncs, unlinks it and
    /// fsyncs the directory. A missing file is not an error. A symbolic link is never written
    /// through: the link itself is removed and nothing else is touched. A file of another
    /// owner, with other hard links, or of another kind is refused untouched, since zeroing it
    /// would write into something that is not (only) this key.
    ///
    /// The overwrite is best effort: file systems that write elsewhere (copy-on-write, SSD
    /// flash translation) keep the old blocks. The unlink and the KEK ratchet are what count.
    public func destroy(_ name: String) throws {
        var info = stat()
        guard fstatat(directory.descriptor, Self.checked(name), &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return }
            throw SystemError("inspect", full(name))
        }
        switch info.st_mode & S_IFMT {
        case S_IFLNK:
            try remove(name)
            return
        case S_IFREG:
            break
        default:
            throw KeyFileError.notRegularFile(path: full(name))
        }
        // Opened without following a link and without blocking, then checked on the
        // descriptor: the name may have changed since fstatat.
        let fd = openat(directory.descriptor, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { return }
            if code == ELOOP { return try remove(name) }
            throw SystemError("open", full(name), code: code)
        }
        let file = try OwnedFile(adopting: fd, path: full(name))
        let opened = try file.status()
        guard opened.st_mode & S_IFMT == S_IFREG else { throw KeyFileError.notRegularFile(path: full(name)) }
        try Self.requireOwned(opened, full(name))
        try Self.requireSingleLink(opened, full(name))
        let zeros = [UInt8](repeating: 0, count: 1 << 16)
        var remaining = Int(opened.st_size)
        while remaining > 0 {
            let count = min(remaining, zeros.count)
            try zeros.withUnsafeBytes { try file.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            remaining -= count
        }
        try file.sync()
        try file.close()
        try remove(name)
    }

    /// Opens (creating it 0600 if absent) the lock file `name`, not following a link, and
    /// checks it is a regular file of the user's. It holds nothing secret, so its mode is not
    /// checked.
    public func openLockFile(_ name: String) throws -> OwnedFile {
        let fd = openat(directory.descriptor, Self.checked(name),
                        O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw openError(errno, name) }
        let file = try OwnedFile(adopting: fd, path: full(name))
        let info = try file.status()
        guard info.st_mode & S_IFMT == S_IFREG else { throw KeyFileError.notRegularFile(path: full(name)) }
        try Self.requireOwned(info, full(name))
        return file
    }

    // MARK: Checks

    /// Opens key file `name` read-only and checks it on the descriptor; returns it with its size.
    private func openPrivate(_ name: String, limit: Int) throws -> (OwnedFile, Int) {
        // O_NONBLOCK: a FIFO put in place of a key file must not hang the open.
        let fd = openat(directory.descriptor, Self.checked(name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { throw openError(errno, name) }
        let file = try OwnedFile(adopting: fd, path: full(name))
        let info = try file.status()
        try Self.requirePrivateFile(info, full(name))
        let size = Int(info.st_size)
        guard size <= limit else { throw SystemError("read (larger than \(limit) bytes)", full(name), code: EFBIG) }
        return (file, size)
    }

    /// The checks a key file passes before it is read, made on its `fstat`.
    static func requirePrivateFile(_ info: stat, _ path: String) throws {
        guard info.st_mode & S_IFMT == S_IFREG else { throw KeyFileError.notRegularFile(path: path) }
        try requireOwned(info, path)
        guard info.st_mode & 0o077 == 0 else { throw KeyFileError.insecureFileMode(path: path, mode: info.st_mode & 0o777) }
        try requireSingleLink(info, path)
    }

    private static func requireOwned(_ info: stat, _ path: String) throws {
        guard info.st_uid == geteuid() else { throw KeyFileError.wrongOwner(path: path, owner: info.st_uid, user: geteuid()) }
    }

    private static func requireSingleLink(_ info: stat, _ path: String) throws {
        guard info.st_nlink == 1 else { throw KeyFileError.multipleLinks(path: path, count: Int(info.st_nlink)) }
    }

    private func openError(_ code: Int32, _ name: String) -> Error {
        code == ELOOP ? KeyFileError.symbolicLink(path: full(name)) : SystemError("open", full(name), code: code)
    }

    private func remove(_ name: String) throws {
        guard unlinkat(directory.descriptor, name, 0) == 0 || errno == ENOENT else { throw SystemError("remove", full(name)) }
        try directory.sync()
    }

    private func full(_ name: String) -> String { "\(path)/\(name)" }

    /// Names are Lethe's own constants; one that could leave the directory is a bug.
    private static func checked(_ name: String) -> String {
        precondition(!name.isEmpty && name != "." && name != ".." && !name.contains("/"), "not a file name: \(name)")
        return name
    }
}
