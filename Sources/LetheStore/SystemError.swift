import Glibc

/// A failed system call on a named file: what was attempted, on which path, and `errno`.
///
/// The description is one line a user can act on ("cannot write /srv/lethe/x: No space left
/// on device (disk full)").
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let code: Int32

    public init(_ operation: String, _ path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    /// The disk or the quota is full: the one condition an operator fixes by freeing space.
    public var isDiskFull: Bool { code == ENOSPC || code == EDQUOT }
    public var isNotFound: Bool { code == ENOENT }
    public var isPermissionDenied: Bool { code == EACCES || code == EPERM }

    public var description: String {
        let reason = String(cString: strerror(code))
        return "cannot \(operation) \(path): \(reason)" + (isDiskFull ? " (disk full)" : "")
    }
}

/// Calls `body` again while it fails with `EINTR`, as every blocking call on Linux must.
@inline(__always)
func retryOnInterrupt<T: BinaryInteger>(_ body: () -> T) -> T {
    while true {
        let result = body()
        if result >= 0 || errno != EINTR { return result }
    }
}
