import Foundation
import LetheCrypto

/// AWS Signature Version 4, as S3 uses it: the canonical request, the string to sign, the
/// signing key derived from the secret, and the `Authorization` header.
///
/// The signer signs exactly the headers it is given (the caller adds `host`, `x-amz-date`,
/// `x-amz-content-sha256` and, with temporary credentials, `x-amz-security-token`), so what is
/// signed is what is sent. Paths are encoded once, segment by segment, and never normalized:
/// S3 signs the path as it is sent, unlike other AWS services, which encode it twice.
///
/// The secret and every key derived from it stay in `SecureBytes`; nothing here prints them.
struct SigV4: Sendable {
    static let algorithm = "AWS4-HMAC-SHA256"

    let credentials: S3Credentials
    let region: String
    let service: String

    init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// What is signed: the request as it will be sent.
    struct Request: Sendable {
        var method: String
        /// The path, not yet encoded (`/bucket/tenants/a b`); each segment is encoded once.
        var path: String
        /// Query parameters, not yet encoded, in any order.
        var query: [(name: String, value: String)]
        /// Every header to sign, `host` included, in any order and case; a repeated name is
        /// joined with commas in the order given.
        var headers: [(name: String, value: String)]
        /// Lower-case hex SHA-256 of the body. S3 also accepts `UNSIGNED-PAYLOAD`; Lethe never
        /// sends it: every body is small enough to hash first (a part at most), and a signed
        /// hash is what makes a body changed in transit fail.
        var payloadHash: String
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC: the form of `x-amz-date`.
    static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ n: Int?) -> String { n.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        return "\(c.year ?? 0)\(two(c.month))\(two(c.day))T\(two(c.hour))\(two(c.minute))\(two(c.second))Z"
    }

    func canonicalRequest(_ request: Request) -> String {
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(request.headers)
        return [
            request.method,
            URIEncoding.path(request.path),
            URIEncoding.query(request.query),
            canonicalHeaders,
            signedHeaders,
            request.payloadHash,
        ].joined(separator: "\n")
    }

    /// `AWS4-HMAC-SHA256`, the timestamp, the scope and the canonical request's hash.
    func stringToSign(canonicalRequest: String, timestamp: String) throws -> String {
        [
            Self.algorithm,
            timestamp,
            scope(timestamp),
            Hex.encode(try SHA256.hash(Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")
    }

    /// The lower-case hex signature of `stringToSign`.
    func signature(stringToSign: String, timestamp: String) throws -> String {
        let key = try signingKey(day: String(timestamp.prefix(8)))
        return Hex.encode(try HMACSHA256(key: key).authenticationCode(for: Array(stringToSign.utf8)))
    }

    /// The value of the `Authorization` header for `request` at `timestamp` (which must be
    /// the request's `x-amz-date`).
    func authorization(for request: Request, timestamp: String) throws -> String {
        let canonical = canonicalRequest(request)
        let signature = try signature(
            stringToSign: try stringToSign(canonicalRequest: canonical, timestamp: timestamp), timestamp: timestamp)
        let signedHeaders = Self.canonicalHeaders(request.headers).signed
        return "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope(timestamp)), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    /// `20150830/us-east-1/service/aws4_request`.
    func scope(_ timestamp: String) -> String {
        "\(timestamp.prefix(8))/\(region)/\(service)/aws4_request"
    }

    /// HMAC("AWS4" + secret, day) → region → service → "aws4_request". Each step's key is
    /// kept in wiped memory.
    func signingKey(day: String) throws -> SecureBytes {
        let secret = credentials.secretAccessKey
        let prefixed = try SecureBytes(capacity: 4 + secret.count) { buffer in
            buffer.copyBytes(from: Array("AWS4".utf8))
            secret.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: buffer[4...]).copyMemory(from: $0) }
            return 4 + secret.count
        }
        var key = prefixed
        for part in [day, region, service, "aws4_request"] {
            var next = try HMACSHA256(key: key).authenticationCode(for: Array(part.utf8))
            key = SecureBytes(wiping: &next)
        }
        return key
    }

    /// Lower-case names, values trimmed with inner runs of spaces collapsed, sorted by name;
    /// and the `;`-joined names.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (canonical: String, signed: String) {
        var merged: [String: [String]] = [:]
        for header in headers {
            merged[header.name.lowercased(), default: []].append(trimmed(header.value))
        }
        let names = merged.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let canonical = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        return (canonical, names.joined(separator: ";"))
    }

    private static func trimmed(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
    }
}

/// Percent-encoding as SigV4 defines it (RFC 3986): every byte but the unreserved
/// `A–Z a–z 0–9 - . _ ~` becomes `%XY` with upper-case hex.
enum URIEncoding {
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    static func encode(_ text: String, keepingSlash: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepingSlash:
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The path with each segment encoded and its slashes kept; `/` for an empty path.
    static func path(_ path: String) -> String {
        path.isEmpty ? "/" : encode(path, keepingSlash: true)
    }

    /// Encoded `name=value` pairs sorted by name, then value, joined with `&`.
    static func query(_ items: [(name: String, value: String)]) -> String {
        items.map { (encode($0.name), encode($0.value)) }
            .sorted { $0.0 == $1.0 ? $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }
}
