import Glibc

/// An exclusive advisory lock (`flock`) on a file, for work that must not interleave between
/// processes on one host: the nightly run, appends to the audit log, changes to the keystore.
///
/// The lock file is never reached through a symbolic link (`O_NOFOLLOW`), so a link planted in
/// its place cannot make Lethe open, or create, a file elsewhere. The kernel drops the lock
/// when the process dies, so a crash never leaves a stale lock; `deinit` releases it too.
public final class FileLock {
    private let file: OwnedFile

    private init(file: OwnedFile) {
        self.file = file
    }

    /// Takes the lock, waiting for another holder to release it.
    public static func acquire(_ path: String) throws -> FileLock {
        try acquire(try open(path))
    }

    /// Takes the lock on `name` inside a key directory, opened and checked by it (a regular
    /// file of the user's, not a link), waiting for another holder to release it.
    public static func acquire(_ name: String, in directory: KeyDirectory) throws -> FileLock {
        try acquire(try directory.openLockFile(name))
    }

    /// Takes the lock if it is free; returns nil if another process holds it.
    public static func tryAcquire(_ path: String) throws -> FileLock? {
        let file = try open(path)
        guard retryOnInterrupt({ flock(file.descriptor, LOCK_EX | LOCK_NB) }) == 0 else {
            if errno == EWOULDBLOCK { return nil }
            throw SystemError("lock", path)
        }
        return FileLock(file: file)
    }

    deinit {
        _ = flock(file.descriptor, LOCK_UN)
    }

    private static func open(_ path: String) throws -> OwnedFile {
        try OwnedFile(path: path, flags: O_RDWR | O_CREAT | O_NOFOLLOW, mode: 0o600)
    }

    private static func acquire(_ file: OwnedFile) throws -> FileLock {
        guard retryOnInterrupt({ flock(file.descriptor, LOCK_EX) }) == 0 else { throw SystemError("lock", file.path) }
        return FileLock(file: file)
    }
}
