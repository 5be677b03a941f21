import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

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

/// One synchronous HTTP exchange per call, over FoundationNetworking `URLSession`s of its own:
/// no cookies, no cache, no credential storage, and no redirects (a signed request redirected
/// elsewhere would fail its signature, and a redirect could send it to a host the
/// configuration never named).
///
/// Requests with a body to an `http://` endpoint are one `PlainHTTPExchange` each, on a
/// connection of their own: URLSession's way of sending a body costs as much CPU as the
/// server spends storing it (see that type). To an `https://` endpoint they go over a second
/// session, each on a new connection (`Connection: close`). On Linux, URLSession's libcurl
/// resends a request by itself when a reused connection closes before any answer, but it
/// cannot rewind a body: the resent request announces its Content-Length and sends nothing,
/// and hangs until the timeout (measured against SeaweedFS through the tests' fault proxy). A body request on a fresh connection is
/// never resent behind our back; bodiless requests (GET, HEAD, DELETE) keep reusing connections.
///
/// Every exchange has a deadline: `URLSession`'s own timeouts, and a wait that cancels the
/// task when they have not fired `timeout` (plus a second's grace) after the start. Retrying
/// is not done here but by `S3Client`, which knows which requests are safe to repeat.
///
/// Owns its sessions and invalidates them in `deinit`.
final class HTTPTransport: Sendable {
    let timeout: TimeInterval
    private let reusing: URLSession
    private let fresh: URLSession

    init(timeout: TimeInterval) {
        self.timeout = timeout
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        configuration.urlCredentialStorage = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        reusing = URLSession(configuration: configuration, delegate: RefuseRedirects(), delegateQueue: nil)
        fresh = URLSession(configuration: configuration, delegate: RefuseRedirects(), delegateQueue: nil)
    }

    deinit {
        reusing.invalidateAndCancel()
        fresh.invalidateAndCancel()
    }

    func send(_ request: URLRequest) -> Result<HTTPResponse, TransportFailure> {
        var request = request
        request.timeoutInterval = timeout
        let hasBody = request.httpBody != nil
        if hasBody, request.url?.scheme?.lowercased() == "http", let url = request.url, let body = request.httpBody {
            return checked(PlainHTTPExchange(timeout: timeout).send(
                method: request.httpMethod ?? "GET", url: url, headers: request.allHTTPHeaderFields ?? [:], body: body), request)
        }
        if hasBody { request.setValue("close", forHTTPHeaderField: "Connection") }
        let outcome = Outcome(timeout: timeout)
        let task = (hasBody ? fresh : reusing).dataTask(with: request) { data, response, error in
            outcome.finish(data: data, response: response, error: error)
        }
        task.resume()
        if outcome.done.wait(timeout: .now() + timeout + 1) == .timedOut {
            task.cancel()
            _ = outcome.done.wait(timeout: .now() + 5)
            return .failure(.timedOut(timeout))
        }
        return checked(outcome.result ?? .failure(.connection("the request ended without an answer")), request)
    }

    /// A body cut short must not pass for a whole one (curl, and a server closing the
    /// connection, may make a closed connection look like the end of the body).
    private func checked(_ result: Result<HTTPResponse, TransportFailure>, _ request: URLRequest) -> Result<HTTPResponse, TransportFailure> {
        if case .success(let response) = result, request.httpMethod != "HEAD",
           let length = response.header("content-length").flatMap({ Int($0) }), response.body.count != length {
            return .failure(.connection("the answer had \(response.body.count) of its \(length) bytes"))
        }
        return result
    }

    /// Where the completion handler leaves its result for the waiting caller.
    private final class Outcome: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        let timeout: TimeInterval
        private let lock = NSLock()
        private var stored: Result<HTTPResponse, TransportFailure>?

        init(timeout: TimeInterval) { self.timeout = timeout }

        var result: Result<HTTPResponse, TransportFailure>? { lock.withLock { stored } }

        func finish(data: Data?, response: URLResponse?, error: Error?) {
            let result: Result<HTTPResponse, TransportFailure>
            if let error {
                let code = (error as? URLError)?.code
                result = code == .timedOut ? .failure(.timedOut(timeout)) : .failure(.connection(Self.describe(error)))
            } else if let http = response as? HTTPURLResponse {
                var headers: [String: String] = [:]
                for (name, value) in http.allHeaderFields {
                    if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
                }
                result = .success(HTTPResponse(status: http.statusCode, headers: headers, body: data ?? Data()))
            } else {
                result = .failure(.connection("the answer was not HTTP"))
            }
            lock.withLock { stored = result }
            done.signal()
        }

        /// The URL error's name, without the URL (which is harmless, but long) or anything else.
        private static func describe(_ error: Error) -> String {
            guard let urlError = error as? URLError else { return "\(type(of: error))" }
            switch urlError.code {
            case .cannotConnectToHost: return "connection refused"
            case .networkConnectionLost: return "connection lost"
            case .cannotFindHost: return "host not found"
            case .notConnectedToInternet: return "no network"
            case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
                 .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
                return "TLS failed (URLError \(urlError.code.rawValue))"
            case .badServerResponse: return "bad server response"
            case .cancelled: return "cancelled"
            default: return "URLError \(urlError.code.rawValue)"
            }
        }
    }

    /// Declines every redirect: the 3xx answer itself is returned.
    private final class RefuseRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
            completionHandler(nil)
        }
    }
}
