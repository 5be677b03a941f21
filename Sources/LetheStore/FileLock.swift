import Glibc

/// An exclusive advisory lock (`flock`) on a file, for work that must not interleave between
/// processes on one host: the nightly run, appends to the audit log.
///
/// The kernel drops the lock when the process dies, so a crash never leaves a stale lock;
/// `deinit` releases it too.
public final class FileLock {
    private let file: OwnedFile

    private init(file: OwnedFile) {
        self.file = file
    }

    /// Takes the lock, waiting for another holder to release it.
    public static func acquire(_ path: String) throws -> FileLock {
        let file = try OwnedFile(path: path, flags: O_RDWR | O_CREAT, mode: 0o600)
        guard retryOnInterrupt({ flock(file.descriptor, LOCK_EX) }) == 0 else { throw SystemError("lock", path) }
        return FileLock(file: file)
    }

    /// Takes the lock if it is free; returns nil if another process holds it.
    public static func tryAcquire(_ path: String) throws -> FileLock? {
        let file = try OwnedFile(path: path, flags: O_RDWR | O_CREAT, mode: 0o600)
        guard retryOnInterrupt({ flock(file.descriptor, LOCK_EX | LOCK_NB) }) == 0 else {
            if errno == EWOULDBLOCK { return nil }
            throw SystemError("lock", path)
        }
        return FileLock(file: file)
    }

    deinit {
        _ = flock(file.descriptor, LOCK_UN)
    }
}
