import CCurl
import Foundation

/// One HTTP request as `S3Client` hands it over, signed: method, full URL, headers (the
/// signed ones and those that go with them; `Host` comes from the URL), and the body of a
/// request that has one.
struct HTTPRequest: Sendable {
    var method: String
    var url: String
    var headers: [(name: String, value: String)]
    /// nil for a request without a body (GET, HEAD, DELETE); PUT and POST always have one,
    /// empty or not.
    var body: [UInt8]?
}

/// An HTTP answer: status, headers (names in lower case) and the whole body.
struct HTTPResponse: Sendable {
    let status: Int
    let headers: [String: String]
    let body: Data

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Why no answer came.
enum TransportFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// The connection was refused, reset or closed before a whole answer arrived.
    case connection(String)
    /// No whole answer within the request timeout.
    case timedOut(TimeInterval)

    var description: String {
        switch self {
        case .connection(let problem): return problem
        case .timedOut(let seconds): return "no whole answer within \(seconds) s"
        }
    }
}

/// One synchronous HTTP/1.1 exchange per call, on the calling thread, with libcurl's easy
/// interface: no cookies, no redirects (a signed request redirected elsewhere would fail its
/// signature, and a redirect could send it to a host the configuration never named), HTTP and
/// HTTPS only, TLS peers and host names verified (libcurl's defaults, against the system's CA
/// bundle).
///
/// Why not FoundationNetworking's `URLSession`: on Linux it drives libcurl's multi interface
/// through libdispatch, and every socket event and timer hops between dispatch threads. Measured
/// on loopback SeaweedFS (docs/benchmarks.md, "S3 store"), uploading 256 MiB in 16 MiB objects
/// took 4.6 CPU seconds through `URLSession`, against 0.1 for the `curl` tool and 1.3 for boto3;
/// on two cores shared with the S3 server, that CPU was what bounded a backup. Here libcurl
/// sends straight from the caller's buffer.
///
/// Requests with a body go each on a new connection that is closed after the answer
/// (`Connection: close`), as they did over URLSession, whose libcurl resent a request by
/// itself without its body when a reused connection closed early. libcurl's easy interface
/// rewinds a body it holds, but a body request still never shares a connection, so what a
/// retry is stays `S3Client`'s to decide. Bodiless requests (GET, HEAD, DELETE) reuse
/// connections: each idle easy handle keeps its own.
///
/// Every exchange has a deadline, `timeout`, from the start to the last byte received
/// (`CURLOPT_TIMEOUT_MS`). Retrying is not done here but by `S3Client`, which knows which
/// requests are safe to repeat.
final class HTTPTransport: Sendable {
    let timeout: TimeInterval
    private let handles = HandlePool()

    init(timeout: TimeInterval) {
        _ = Self.globalInit
        self.timeout = timeout
    }

    /// `curl_global_init`, once per process, before the first handle.
    private static let globalInit: Void = {
        _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    func send(_ request: HTTPRequest) -> Result<HTTPResponse, TransportFailure> {
        guard let handle = handles.take() else { return .failure(.connection("libcurl could not make a handle")) }
        defer { handles.give(handle) }
        let exchange = Exchange()
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        let hasBody = request.body != nil
        var lines = request.headers.map { $0.value.isEmpty ? "\($0.name);" : "\($0.name): \($0.value)" }
        // No `Expect: 100-continue` round trip before a body; no body request shares a connection.
        lines.append("Expect:")
        if hasBody { lines.append("Connection: close") }
        for line in lines { headerList = curl_slist_append(headerList, line) }

        let milliseconds = max(1, Int(timeout * 1000))
        var ok = true
        func set(_ option: CURLoption, _ value: Int) { ok = ok && lethe_curl_setopt_long(handle, option, value) == CURLE_OK }
        func set(_ option: CURLoption, _ value: String) { ok = ok && lethe_curl_setopt_pointer(handle, option, value) == CURLE_OK }
        curl_easy_reset(handle)
        set(CURLOPT_URL, request.url)
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        set(CURLOPT_FOLLOWLOCATION, 0)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1)
        set(CURLOPT_TIMEOUT_MS, milliseconds)
        set(CURLOPT_CONNECTTIMEOUT_MS, milliseconds)
        ok = ok && lethe_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, headerList) == CURLE_OK
        ok = ok && lethe_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION, Exchange.headerCallback) == CURLE_OK
        ok = ok && lethe_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, Exchange.bodyCallback) == CURLE_OK
        let context = Unmanaged.passUnretained(exchange).toOpaque()
        ok = ok && lethe_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context) == CURLE_OK
        ok = ok && lethe_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context) == CURLE_OK
        switch request.method {
        case "GET": set(CURLOPT_HTTPGET, 1)
        case "HEAD": set(CURLOPT_NOBODY, 1)
        default: set(CURLOPT_CUSTOMREQUEST, request.method)
        }
        if hasBody {
            set(CURLOPT_FRESH_CONNECT, 1)
            set(CURLOPT_FORBID_REUSE, 1)
        }
        guard ok else { return .failure(.connection("libcurl refused an option")) }

        let code: CURLcode = withExtendedLifetime(exchange) {
            guard let body = request.body else { return curl_easy_perform(handle) }
            // POSTFIELDS sends from this buffer without copying it; it must not be NULL, or
            // libcurl would read the body from standard input.
            return body.withUnsafeBytes { bytes -> CURLcode in
                withUnsafeBytes(of: Exchange.emptyBody) { empty in
                    set(CURLOPT_POST, 1)
                    ok = ok && lethe_curl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count)) == CURLE_OK
                    ok = ok && lethe_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, bytes.baseAddress ?? empty.baseAddress) == CURLE_OK
                    // CURLOPT_POST made this a POST; the custom method (PUT, POST) is what goes out.
                    set(CURLOPT_CUSTOMREQUEST, request.method)
                    guard ok else { return CURLE_FAILED_INIT }
                    return curl_easy_perform(handle)
                }
            }
        }
        guard code == CURLE_OK else { return .failure(Self.failure(code, timeout: timeout)) }
        var status = 0
        if lethe_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status == 0 {
            return .failure(.connection("the answer was not HTTP"))
        }
        let response = HTTPResponse(status: status, headers: exchange.headers, body: exchange.body)
        // A body cut short must not pass for a whole one.
        if request.method != "HEAD", let length = response.header("content-length").flatMap({ Int($0) }), response.body.count != length {
            return .failure(.connection("the answer had \(response.body.count) of its \(length) bytes"))
        }
        return .success(response)
    }

    /// The failure a libcurl error stands for, by name and number only.
    static func failure(_ code: CURLcode, timeout: TimeInterval) -> TransportFailure {
        switch code {
        case CURLE_OPERATION_TIMEDOUT: return .timedOut(timeout)
        case CURLE_COULDNT_CONNECT: return .connection("connection refused")
        case CURLE_COULDNT_RESOLVE_HOST: return .connection("host not found")
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE: return .connection("connection lost")
        case CURLE_WEIRD_SERVER_REPLY: return .connection("bad server response")
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS:
            return .connection("TLS failed (libcurl error \(code.rawValue))")
        default: return .connection("libcurl error \(code.rawValue)")
        }
    }

    /// What libcurl's callbacks collect for one exchange: the headers of the last response
    /// (an interim `100 Continue` is forgotten when the final status line arrives) and the body.
    private final class Exchange {
        var headers: [String: String] = [:]
        var body = Data()
        static let emptyBody: UInt8 = 0

        static let headerCallback: lethe_curl_data_callback = { data, size, count, context in
            let length = size * count
            guard let data, let context else { return 0 }
            let exchange = Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue()
            let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
            if line.hasPrefix("HTTP/") {
                exchange.headers = [:]
            } else if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                // Repeated headers are joined with ", ", as HTTP allows.
                exchange.headers[name] = exchange.headers[name].map { "\($0), \(value)" } ?? value
                if name == "content-length", let expected = Int(value), expected > 0 {
                    exchange.body.reserveCapacity(min(expected, 64 << 20))
                }
            }
            return length
        }

        static let bodyCallback: lethe_curl_data_callback = { data, size, count, context in
            let length = size * count
            guard let data, let context else { return 0 }
            Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue().body
                .append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: length)
            return length
        }
    }

    /// Idle easy handles, each with the connections it keeps open for reuse. A handle is used
    /// by one exchange at a time; at most `keep` idle handles are kept.
    private final class HandlePool: @unchecked Sendable {
        private let lock = NSLock()
        private var idle: [UnsafeMutableRawPointer] = []
        private let keep = 8

        func take() -> UnsafeMutableRawPointer? {
            lock.withLock { idle.popLast() } ?? curl_easy_init()
        }

        func give(_ handle: UnsafeMutableRawPointer) {
            let kept = lock.withLock {
                guard idle.count < keep else { return false }
                idle.append(handle)
                return true
            }
            if !kept { curl_easy_cleanup(handle) }
        }

        deinit {
            for handle in idle { curl_easy_cleanup(handle) }
        }
    }
}
