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

    /// The exit code that `error` means: the kind it says it is; anything that says nothing
    /// (an error of Foundation) is a failure.
    static func `for`(_ error: Error) -> ExitCode {
        guard let kinded = error as? KindedError else { return .failure }
        switch kinded.kind {
        case .usage: return .usage
        case .integrity: return .integrity
        case .refused: return .refused
        case .failed: return .failure
        }
    }
}

/// A mistake on the command line.
struct UsageError: KindedError, CustomStringConvertible {
    let message: String
    let command: String
    var kind: ErrorKind { .usage }

    var description: String { "\(message) (see `\(command) --help`)" }
}
