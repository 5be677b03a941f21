import Glibc

/// Owns one open file descriptor, closed in `deinit` unless `close()` came first.
///
/// Each method is one system call (or one loop of them for short transfers), with `EINTR`
/// retried and failures reported as `SystemError` naming the path.
public final class OwnedFile {
    public let descriptor: Int32
    public let path: String
    private var isOpen = true

    /// Opens `path` with `flags` (`O_CLOEXEC` is always added) and, if it is created, `mode`.
    public init(path: String, flags: Int32, mode: mode_t = 0o600) throws {
        let fd = retryOnInterrupt { open(path, flags | O_CLOEXEC, mode) }
        guard fd >= 0 else { throw SystemError("open", path) }
        descriptor = fd
        self.path = path
    }

    /// Takes ownership of an open descriptor (a pipe's read end, for instance); `path` names it
    /// in errors.
    public init(adopting descriptor: Int32, path: String) throws {
        guard descriptor >= 0 else { throw SystemError("open", path) }
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        if isOpen { _ = Glibc.close(descriptor) }
    }

    /// Closes the descriptor and reports a failure (which, after writes, can mean lost data).
    public func close() throws {
        guard isOpen else { return }
        isOpen = false
        guard Glibc.close(descriptor) == 0 else { throw SystemError("close", path) }
    }

    /// Writes all of `bytes` at the current offset.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = retryOnInterrupt { Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset) }
            guard written > 0 else { throw SystemError("write", path) }
            offset += written
        }
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Reads into `buffer` from the current offset; returns how many bytes were read (0 at end).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        let count = retryOnInterrupt { Glibc.read(descriptor, buffer.baseAddress!, buffer.count) }
        guard count >= 0 else { throw SystemError("read", path) }
        return count
    }

    /// Fills `buffer` from the current offset unless the file ends first; returns the count.
    public func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var total = 0
        while total < buffer.count {
            let count = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[total...]))
            if count == 0 { break }
            total += count
        }
        return total
    }

    /// Reads exactly `buffer.count` bytes at `offset`, or throws if the file is shorter.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        var total = 0
        while total < buffer.count {
            let count = retryOnInterrupt {
                pread(descriptor, buffer.baseAddress! + total, buffer.count - total, off_t(offset + total))
            }
            guard count >= 0 else { throw SystemError("read", path) }
            guard count > 0 else { throw SystemError("read", path, code: EIO) }
            total += count
        }
    }

    /// Flushes data and metadata to stable storage.
    public func sync() throws {
        guard retryOnInterrupt({ fsync(descriptor) }) == 0 else { throw SystemError("fsync", path) }
    }

    /// The file's status (`fstat`).
    public func status() throws -> stat {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw SystemError("stat", path) }
        return info
    }
}
