/// A request to S3 that failed: the operation, the bucket and key it was about, why, and after
/// how many attempts.
///
/// The description is one line, e.g. `S3 PutObject s3://backups/lethe/tenants/acme/lock: 503
/// SlowDown "Please reduce your request rate." (after 5 attempts)`. It carries S3's error code
/// and message, never a credential, a signature or a request header.
public struct S3Error: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        /// S3 answered with an error status: S3's code (`NoSuchBucket`, `SlowDown`, `BadDigest`;
        /// empty when the answer had no error document) and message.
        case service(status: Int, code: String, message: String)
        /// No answer: the connection was refused, dropped or timed out.
        case transport(String)
        /// An answer that is not what the operation expects (unparsable XML, a missing
        /// element, a body of the wrong length).
        case malformedResponse(String)
        /// DeleteObjects could not delete these keys (the first few are named).
        case notDeleted(keys: [String], code: String, count: Int)
    }

    /// The S3 API action (`PutObject`, `ListObjectsV2`, `CompleteMultipartUpload`, …).
    public let operation: String
    public let bucket: String
    /// The full S3 key (prefix included), when the request was about one.
    public let key: String?
    public let reason: Reason
    /// How many times the request was sent (1 for a request that is not retried).
    public let attempts: Int

    init(_ operation: String, bucket: String, key: String?, reason: Reason, attempts: Int) {
        self.operation = operation
        self.bucket = bucket
        self.key = key
        self.reason = reason
        self.attempts = attempts
    }

    /// S3's error code, if S3 gave one.
    public var code: String? {
        switch reason {
        case .service(_, let code, _): return code.isEmpty ? nil : code
        case .notDeleted(_, let code, _): return code
        default: return nil
        }
    }

    public var status: Int? {
        if case .service(let status, _, _) = reason { return status }
        return nil
    }

    public var description: String {
        let target = "s3://\(bucket)" + (key.map { "/\($0)" } ?? "")
        let why: String
        switch reason {
        case .service(let status, let code, let message):
            why = "\(status)" + (code.isEmpty ? "" : " \(code)") + (message.isEmpty ? "" : " \"\(message)\"")
        case .transport(let problem):
            why = "no answer: \(problem)"
        case .malformedResponse(let problem):
            why = "unexpected answer: \(problem)"
        case .notDeleted(let keys, let code, let count):
            why = "\(count) key(s) not deleted (\(code)): " + keys.joined(separator: ", ") + (count > keys.count ? ", …" : "")
        }
        return "S3 \(operation) \(target): \(why)" + (attempts > 1 ? " (after \(attempts) attempts)" : "")
    }

    /// A server-supplied text made safe for a one-line message: printable ASCII only, at
    /// most 200 characters.
    static func oneLine(_ text: String) -> String {
        let cleaned = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value >= 0x20 && $0.value < 0x7f ? $0 : " " }))
            .split(separator: " ").joined(separator: " ")
        return cleaned.count > 200 ? String(cleaned.prefix(200)) + "…" : cleaned
    }
}
