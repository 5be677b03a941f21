import Glibc
import LetheCrypto

/// What kind of failure an error is, which decides the exit code a user sees (docs/cli.md):
/// every error type of Lethe says it of itself, so that a new error cannot silently become
/// "operation failed".
public enum ErrorKind: Equatable, Sendable {
    /// The request is malformed, or the configuration is wrong (exit 2).
    case usage
    /// Stored data failed an integrity check (exit 3).
    case integrity
    /// Policy forbids it: legal hold, window not passed, approvals missing, destroyed (exit 4).
    case refused
    /// The operation could not be completed (exit 1).
    case failed
}

/// An error that knows its `ErrorKind`.
public protocol KindedError: Error {
    var kind: ErrorKind { get }
}

/// A link where Lethe opens its own file without following links (ELOOP) is someone else's
/// doing: an integrity violation. Anything else a system call refuses is a failure.
extension SystemError: KindedError {
    public var kind: ErrorKind { code == ELOOP ? .integrity : .failed }
}

extension InvalidTenantID: KindedError {
    public var kind: ErrorKind { .usage }
}

extension InvalidObjectKey: KindedError {
    public var kind: ErrorKind { .usage }
}

/// A missing or short object that Lethe expected is damage to the store.
extension ObjectNotFound: KindedError {
    public var kind: ErrorKind { .integrity }
}

extension ObjectTooShort: KindedError {
    public var kind: ErrorKind { .integrity }
}

extension KeyFileError: KindedError {
    /// A link or a foreign kind of file where a key should be: integrity; permissions, owner
    /// and extra hard links: the operator's to fix.
    public var kind: ErrorKind { isIntegrityViolation ? .integrity : .usage }
}

extension SQLiteError: KindedError {
    public var kind: ErrorKind { .failed }
}

/// A wrong key or a damaged ciphertext is integrity; anything else from libcrypto a failure.
extension CryptoError: KindedError {
    public var kind: ErrorKind {
        switch self {
        case .authenticationFailure: return .integrity
        default: return .failed
        }
    }
}
