import Foundation

/// Where an `S3Store` keeps its objects and how it reaches them.
///
/// Objects live in `bucket` under `prefix` (`lethe/prod` makes `tenants/acme/…` the key
/// `lethe/prod/tenants/acme/…`; an empty prefix is the bucket's root). Holds no secret itself:
/// `credentials` says where they come from, and its description shows no value.
public struct S3Configuration: Sendable, CustomStringConvertible {
    /// `https://s3.eu-central-1.amazonaws.com`, `http://127.0.0.1:8333`: scheme, host, optional
    /// port, no path.
    public var endpoint: URL
    public var region: String
    public var bucket: String
    public var prefix: String
    public var addressing: AddressingStyle
    public var credentials: S3CredentialsSource
    /// How long one attempt of a request may take, from sending to the last byte received.
    public var requestTimeout: TimeInterval
    /// Attempts of a request that is safe to repeat, the first included.
    public var maxAttempts: Int
    /// The first retry waits up to this long; each further one up to twice as long as the one
    /// before (full jitter), never more than `maxBackoff`.
    public var initialBackoff: TimeInterval
    public var maxBackoff: TimeInterval
    /// Bytes per part of a multipart upload; S3 requires at least 5 MiB for all but the last.
    public var partSize: Int

    /// How the bucket appears in a request's URL.
    public enum AddressingStyle: String, Sendable {
        /// `https://endpoint/bucket/key`: works with any endpoint, including an IP address.
        case path
        /// `https://bucket.endpoint/key`: what AWS prefers for new buckets.
        case virtualHost
    }

    public static let minimumPartSize = 5 * 1024 * 1024

    public init(
        endpoint: URL, region: String, bucket: String, prefix: String = "",
        addressing: AddressingStyle = .path, credentials: S3CredentialsSource = .environment,
        requestTimeout: TimeInterval = 60, maxAttempts: Int = 5,
        initialBackoff: TimeInterval = 0.2, maxBackoff: TimeInterval = 10,
        partSize: Int = 8 * 1024 * 1024
    ) {
        self.endpoint = endpoint
        self.region = region
        self.bucket = bucket
        self.prefix = prefix
        self.addressing = addressing
        self.credentials = credentials
        self.requestTimeout = requestTimeout
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.partSize = partSize
    }

    /// Checks what S3 would reject late, or what would put keys where they do not belong.
    func validate() throws {
        guard let scheme = endpoint.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = endpoint.host, !host.isEmpty,
              endpoint.path.isEmpty || endpoint.path == "/", endpoint.query == nil, endpoint.user == nil
        else {
            throw S3ConfigurationError.invalid("the endpoint must be http(s)://host[:port] with no path, query or user")
        }
        guard Self.isValidBucketName(bucket) else {
            throw S3ConfigurationError.invalid("bucket \"\(bucket)\" is not a valid S3 bucket name (3-63 of a-z 0-9 . -)")
        }
        guard !region.isEmpty, region.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 122) }) else {
            throw S3ConfigurationError.invalid("region \"\(region)\" is not a region name")
        }
        if !prefix.isEmpty {
            guard prefix.split(separator: "/", omittingEmptySubsequences: false).allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
                throw S3ConfigurationError.invalid("prefix \"\(prefix)\" must be /-separated names, with no leading, trailing or double /")
            }
        }
        guard partSize >= Self.minimumPartSize else {
            throw S3ConfigurationError.invalid("partSize must be at least \(Self.minimumPartSize) bytes (S3's minimum part)")
        }
        guard maxAttempts >= 1, requestTimeout > 0, initialBackoff >= 0, maxBackoff >= initialBackoff else {
            throw S3ConfigurationError.invalid("maxAttempts must be at least 1 and the timeout and backoffs positive")
        }
        if addressing == .virtualHost, bucket.contains(".") && scheme == "https" {
            throw S3ConfigurationError.invalid("bucket \"\(bucket)\" has a dot, which breaks TLS with virtual-host addressing; use path addressing")
        }
    }

    static func isValidBucketName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count), let first = bytes.first, let last = bytes.last else { return false }
        func alnum(_ b: UInt8) -> Bool { (b >= 48 && b <= 57) || (b >= 97 && b <= 122) }
        return alnum(first) && alnum(last) && bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
            && !name.contains("..")
    }

    /// `s3://bucket/prefix (endpoint)`: what reports and messages call this store.
    var location: String {
        "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)") + " (\(endpoint.absoluteString))"
    }

    public var description: String {
        "\(location), region \(region), \(addressing.rawValue) addressing, credentials from \(credentials)"
    }
}

/// A configuration S3Store cannot work with: one line saying what to change. Never carries a
/// credential's value.
public enum S3ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalid(String)
    case missingEnvironment(String)
    case invalidCredentials(String)
    case credentialsFile(path: String, problem: String)

    public var description: String {
        switch self {
        case .invalid(let problem): return "S3 configuration: \(problem)"
        case .missingEnvironment(let name): return "S3 credentials: the environment variable \(name) is not set"
        case .invalidCredentials(let problem): return "S3 credentials: \(problem)"
        case .credentialsFile(let path, let problem): return "S3 credentials file \(path): \(problem)"
        }
    }
}
