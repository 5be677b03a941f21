import Foundation
import LetheCrypto

/// An access key id, its secret access key and, for temporary credentials, a session token.
///
/// The secret lives in `SecureBytes` (wiped when released, no way out to an `Array`). Neither
/// `description` nor a `Mirror` (`dump`, `print` of an enclosing value) shows any part of the
/// credentials: an S3 error or a log line can name the bucket, never the key.
public struct S3Credentials: Sendable, CustomStringConvertible, CustomReflectable {
    let accessKeyID: String
    let secretAccessKey: SecureBytes
    let sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: SecureBytes, sessionToken: String? = nil) throws {
        guard !accessKeyID.isEmpty, accessKeyID.utf8.allSatisfy(Self.isTokenByte) else {
            throw S3ConfigurationError.invalidCredentials("the access key id is empty or has characters other than letters, digits and -_./+=")
        }
        guard secretAccessKey.count > 0 else { throw S3ConfigurationError.invalidCredentials("the secret access key is empty") }
        if let token = sessionToken {
            guard !token.isEmpty, token.utf8.allSatisfy(Self.isTokenByte) else {
                throw S3ConfigurationError.invalidCredentials("the session token is empty or not base64-like text")
            }
        }
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// From `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and (optional) `AWS_SESSION_TOKEN`.
    /// The environment's own copy of the secret cannot be wiped; a credentials file avoids it.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> S3Credentials {
        guard let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty else {
            throw S3ConfigurationError.missingEnvironment("AWS_ACCESS_KEY_ID")
        }
        guard var secret = environment["AWS_SECRET_ACCESS_KEY"].map({ Array($0.utf8) }), !secret.isEmpty else {
            throw S3ConfigurationError.missingEnvironment("AWS_SECRET_ACCESS_KEY")
        }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return try S3Credentials(accessKeyID: id, secretAccessKey: SecureBytes(wiping: &secret), sessionToken: token)
    }

    /// Letters, digits and the few punctuation marks of AWS key ids, secrets and tokens:
    /// nothing that could break a header line.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: "+"), UInt8(ascii: "="):
            return true
        default:
            return false
        }
    }

    public var description: String { "S3 credentials (not shown)" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

/// Where `S3Store` takes its credentials from.
public enum S3CredentialsSource: Sendable, CustomStringConvertible {
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` of the process.
    case environment
    /// An AWS shared-credentials file (`[profile]`, `aws_access_key_id = …`), which must be a
    /// regular file of the user's, mode 0600 or stricter (see `CredentialsFile`).
    case file(path: String, profile: String = "default")
    /// Credentials the caller already holds.
    case explicit(S3Credentials)

    /// Reads the credentials now.
    public func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> S3Credentials {
        switch self {
        case .environment: return try S3Credentials.fromEnvironment(environment)
        case .file(let path, let profile): return try CredentialsFile.read(path, profile: profile)
        case .explicit(let credentials): return credentials
        }
    }

    public var description: String {
        switch self {
        case .environment: return "environment (AWS_ACCESS_KEY_ID)"
        case .file(let path, let profile): return "file \(path) [\(profile)]"
        case .explicit: return "given by the caller"
        }
    }
}
