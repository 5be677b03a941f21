import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LetheCrypto

/// One S3 API request, before signing.
struct S3Request: Sendable {
    /// The API action, for errors (`PutObject`).
    var operation: String
    var method: String
    /// The full S3 key (prefix included); nil for a request about the bucket itself.
    var key: String?
    var query: [(name: String, value: String)] = []
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []
    /// What is retried besides no answer, a 5xx and a 429. Every request S3Store sends is safe
    /// to repeat (the reasoning for each is in docs/s3.md and at the call), so every request is
    /// retried; a request that could not be repeated safely would need a case that is not.
    var retry: Retry = .safe

    enum Retry: Sendable {
        case safe
        /// Safe, and S3's 409 `ConditionalRequestConflict` (two conditional writes raced, AWS
        /// asks to retry) is retried too.
        case safeIncludingConflict
        /// Safe, and a 200 whose body is an `<Error>` document (CompleteMultipartUpload reports
        /// failures that happen after its status line this way) is retried too.
        case safeIncludingErrorBody
    }
}

/// An answer to an `S3Request` and how many attempts it took.
struct S3Response: Sendable {
    let http: HTTPResponse
    let attempts: Int
    var status: Int { http.status }
    var body: Data { http.body }
    func header(_ name: String) -> String? { http.header(name) }
}

/// Signs and sends S3 requests, retrying those that are safe to repeat with exponential
/// backoff and full jitter: the n-th retry waits a random time up to
/// `min(maxBackoff, initialBackoff × 2^(n-1))`, so clients that failed together do not
/// retry together. Each attempt is signed anew, with its own `x-amz-date`.
final class S3Client: Sendable {
    let configuration: S3Configuration
    let signer: SigV4
    let transport: HTTPTransport
    private let sleep: @Sendable (TimeInterval) -> Void

    init(configuration: S3Configuration, credentials: S3Credentials,
         sleep: @escaping @Sendable (TimeInterval) -> Void = { Thread.sleep(forTimeInterval: $0) }) {
        self.configuration = configuration
        self.signer = SigV4(credentials: credentials, region: configuration.region)
        self.transport = HTTPTransport(timeout: configuration.requestTimeout)
        self.sleep = sleep
    }

    var bucket: String { configuration.bucket }

    /// Sends `request` until it is answered with a status that is not retried, or its
    /// attempts run out. Returns the last answer whatever its status; throws only when no
    /// answer came at all.
    func perform(_ request: S3Request) throws -> S3Response {
        let attempts = configuration.maxAttempts
        var lastFailure = TransportFailure.connection("not sent")
        let payloadHash = try request.payloadHash()
        let body = Data(request.body)
        for attempt in 1...attempts {
            if attempt > 1 { sleep(backoff(beforeRetry: attempt - 1)) }
            let urlRequest = try signed(request, payloadHash: payloadHash, body: body)
            switch transport.send(urlRequest) {
            case .failure(let failure):
                lastFailure = failure
            case .success(let http):
                let response = S3Response(http: http, attempts: attempt)
                if attempt == attempts || !isRetryable(response, request.retry) { return response }
            }
        }
        throw S3Error(request.operation, bucket: bucket, key: request.key,
                      reason: .transport(lastFailure.description), attempts: attempts)
    }

    /// As `perform`, but any status outside 200–299 is thrown as an `S3Error`.
    @discardableResult
    func performExpectingSuccess(_ request: S3Request) throws -> S3Response {
        let response = try perform(request)
        guard (200...299).contains(response.status) else { throw failure(request, response) }
        return response
    }

    /// The `S3Error` an error answer stands for, with S3's code and message when it sent them.
    func failure(_ request: S3Request, _ response: S3Response) -> S3Error {
        let document = S3Responses.ErrorDocument.parse(response.body)
        var message = document?.message ?? ""
        // Some errors quote the access key id; it is not secret, but it is a credential.
        message = message.replacingOccurrences(of: signer.credentials.accessKeyID, with: "(access key id)")
        return S3Error(request.operation, bucket: bucket, key: request.key,
                       reason: .service(status: response.status, code: document?.code ?? "", message: message),
                       attempts: response.attempts)
    }

    /// Parses a success answer's XML; a malformed one is an `S3Error` naming the request.
    func decode<T>(_ request: S3Request, _ response: S3Response, _ parse: (Data) throws -> T) throws -> T {
        do {
            return try parse(response.body)
        } catch let refused as XMLRefused {
            throw S3Error(request.operation, bucket: bucket, key: request.key,
                          reason: .malformedResponse(refused.problem), attempts: response.attempts)
        }
    }

    /// 5xx and 429 (SlowDown, throttling) are worth another try; 409 only for conditional
    /// writes that raced. Other 4xx are answers: the same request would get the same one.
    private func isRetryable(_ response: S3Response, _ retry: S3Request.Retry) -> Bool {
        if response.status >= 500 || response.status == 429 { return true }
        if response.status == 409, retry == .safeIncludingConflict {
            return S3Responses.ErrorDocument.parse(response.body)?.code == "ConditionalRequestConflict"
        }
        if response.status == 200, retry == .safeIncludingErrorBody {
            return S3Responses.ErrorDocument.parse(response.body) != nil
        }
        return false
    }

    func backoff(beforeRetry retry: Int) -> TimeInterval {
        let ceiling = min(configuration.maxBackoff, configuration.initialBackoff * pow(2, Double(retry - 1)))
        return ceiling > 0 ? Double.random(in: 0...ceiling) : 0
    }

    // MARK: Building and signing

    /// The URL of `key` (or of the bucket), path-style or virtual-host style.
    func url(key: String?, query: String) throws -> (URL, host: String, path: String) {
        let endpoint = configuration.endpoint
        var host = endpoint.host ?? ""
        var path: String
        switch configuration.addressing {
        case .path:
            path = "/\(bucket)" + (key.map { "/\($0)" } ?? "")
        case .virtualHost:
            host = "\(bucket).\(host)"
            path = "/" + (key ?? "")
        }
        var components = URLComponents()
        components.scheme = endpoint.scheme
        components.host = host
        components.port = endpoint.port
        components.percentEncodedPath = URIEncoding.path(path)
        if !query.isEmpty { components.percentEncodedQuery = query }
        guard let url = components.url else {
            throw S3ConfigurationError.invalid("cannot form a URL for bucket \(bucket) at \(endpoint.absoluteString)")
        }
        let defaultPort = endpoint.scheme?.lowercased() == "https" ? 443 : 80
        let hostHeader = endpoint.port.map { $0 == defaultPort ? host : "\(host):\($0)" } ?? host
        path = path.isEmpty ? "/" : path
        return (url, hostHeader, path)
    }

    private func signed(_ request: S3Request, payloadHash: String, body: Data) throws -> URLRequest {
        let query = URIEncoding.query(request.query)
        let (url, host, path) = try url(key: request.key, query: query)
        let timestamp = SigV4.timestamp(Date())
        var headers = request.headers
        headers.append(("host", host))
        headers.append(("x-amz-date", timestamp))
        headers.append(("x-amz-content-sha256", payloadHash))
        if let token = signer.credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
        let authorization = try signer.authorization(
            for: SigV4.Request(method: request.method, path: path, query: request.query, headers: headers, payloadHash: payloadHash),
            timestamp: timestamp)
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method
        for (name, value) in headers where name != "host" {
            urlRequest.setValue(value, forHTTPHeaderField: name)
        }
        urlRequest.setValue(authorization, forHTTPHeaderField: "Authorization")
        if !body.isEmpty || request.method == "PUT" || request.method == "POST" {
            urlRequest.httpBody = body
            if request.headers.allSatisfy({ $0.name.lowercased() != "content-type" }) {
                urlRequest.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
            }
        }
        return urlRequest
    }
}

extension S3Request {
    /// `x-amz-checksum-sha256` (base64 of the SHA-256) for a body: S3 refuses the write with
    /// 400 BadDigest when the bytes that arrived do not match it. `payloadHash()` reads the
    /// digest back from this header.
    static func checksumHeader(_ body: [UInt8]) throws -> (name: String, value: String) {
        ("x-amz-checksum-sha256", Data(try SHA256.hash(body)).base64EncodedString())
    }

    /// The hex SHA-256 of the body (`x-amz-content-sha256`), from the checksum header when the
    /// request carries one, so that a body is hashed once, not twice. (Were that header ever of
    /// other bytes, S3 would refuse the request: the body would match neither the signed hash
    /// nor the checksum.)
    func payloadHash() throws -> String {
        if let checksum = headers.first(where: { $0.name == "x-amz-checksum-sha256" }),
           let digest = Data(base64Encoded: checksum.value), digest.count == 32 {
            return Hex.encode([UInt8](digest))
        }
        return Hex.encode(try SHA256.hash(body))
    }
}
