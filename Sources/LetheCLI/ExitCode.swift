import LetheCrypto
import LetheKeys
import LetheStore
import LetheCore
import LetheRepository

/// The exit codes of the brief, and the one place where an error becomes one of them.
public enum ExitCode: Int32, Sendable {
    /// Everything asked for was done.
    case success = 0
    /// An operation failed (I/O, a tenant's backup, a notification).
    case failure = 1
    /// The command line or the configuration is wrong.
    case usage = 2
    /// An integrity violation was found: modified, truncated, missing or swapped data.
    case integrity = 3
    /// Refused by policy: missing approvals, legal hold, window not passed, destroyed tenant.
    case refused = 4

    /// The exit code that `error` means.
    static func `for`(_ error: Error) -> ExitCode {
        switch error {
        case is UsageError, is ConfigurationError, is InvalidTenantID, is InvalidObjectKey:
            return .usage
        case let error as KeyError:
            switch error {
            case .notInitialized, .alreadyInitialized, .tenantKeyExists, .signingKeyMissing: return .usage
            case .keystoreDamaged, .unwrapFailed, .malformedKeyFile, .publicKeyMismatch: return .integrity
            case .kekMissing, .noTenantKey: return .failure
            }
        case let error as KeyFileError:
            // A link or a foreign kind of file where a key should be: integrity; permissions,
            // owner and extra hard links: the operator's to fix.
            return error.isIntegrityViolation ? .integrity : .usage
        case is IntegrityViolation, is MalformedData, is ObjectTooShort:
            return .integrity
        case let error as LetheError:
            return error.exitCode
        default:
            return .failure
        }
    }
}

extension LetheError {
    var exitCode: ExitCode {
        switch kind {
        case .usage: return .usage
        case .integrity: return .integrity
        case .refused: return .refused
        case .failed: return .failure
        }
    }
}

/// A mistake on the command line.
struct UsageError: Error, CustomStringConvertible {
    let message: String
    let command: String

    var description: String { "\(message) (see `\(command) --help`)" }
}
