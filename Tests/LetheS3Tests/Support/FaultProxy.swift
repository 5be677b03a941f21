import Foundation
import Glibc

/// A TCP proxy on loopback, between S3Store and SeaweedFS, that breaks the requests it is told
/// to: it answers an error status itself, drops the connection part-way through a request
/// body, stalls past the client's timeout, or forwards a request whole and then drops the
/// connection before the answer gets back (the request took effect; the client cannot know).
///
/// It reads each request's head to decide (keep-alive connections carry many requests), then
/// copies bytes; answers are copied without being parsed. Each connection has two threads,
/// one per direction. `stop()` closes everything; the tests call it in a `defer`.
final class FaultProxy: @unchecked Sendable {
    enum Fault: Sendable {
        /// Answer this status with an S3 error document, and close the connection.
        case respond(status: Int)
        /// Forward the head and this many bytes of the body, then close both connections.
        case dropAfterBodyBytes(Int)
        /// Read the head, send nothing on, answer nothing; close when the client gives up.
        case stall
        /// Forward the whole request, then close both connections before the answer arrives.
        case loseAnswer
    }

    struct RequestHead: Sendable {
        let method: String
        /// Path and query as sent (`/bucket/key?partNumber=2&uploadId=…`).
        let target: String
        /// Lower-case names.
        let headers: [String: String]
        var contentLength: Int { headers["content-length"].flatMap { Int($0) } ?? 0 }
    }

    private struct Rule {
        let fault: Fault
        var remaining: Int
        let matches: @Sendable (RequestHead) -> Bool
    }

    let port: UInt16
    private let upstreamPort: UInt16
    private let listener: Int32
    private let lock = NSLock()
    private var rules: [Rule] = []
    private var seen: [String] = []
    private var connections: [Connection] = []
    private var running = true

    var endpoint: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// "METHOD target" of every request the proxy read, in order.
    var requests: [String] { lock.withLock { seen } }

    init(upstream: URL) throws {
        upstreamPort = UInt16(upstream.port ?? 80)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 64) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard fd >= 0, bound else {
            if fd >= 0 { Glibc.close(fd) }
            throw ProxyError(problem: "cannot listen on loopback: errno \(errno)")
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// The next `times` requests for which `matches` is true get `fault`.
    func inject(_ fault: Fault, times: Int = 1, when matches: @escaping @Sendable (RequestHead) -> Bool) {
        lock.withLock { rules.append(Rule(fault: fault, remaining: times, matches: matches)) }
    }

    func stop() {
        let open = lock.withLock {
            running = false
            return connections
        }
        Glibc.shutdown(listener, Int32(SHUT_RDWR))
        for connection in open { connection.closeBoth() }
    }

    deinit {
        stop()
        Glibc.close(listener)
    }

    // MARK: Connections

    private func acceptLoop() {
        while lock.withLock({ running }) {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            guard connected else {
                Glibc.close(client)
                Glibc.close(upstream)
                continue
            }
            let connection = Connection(client: client, upstream: upstream)
            let accepted = lock.withLock { () -> Bool in
                guard running else { return false }
                connections.append(connection)
                return true
            }
            guard accepted else {
                connection.closeBoth()
                continue
            }
            Thread { [self] in
                requestsLoop(connection)
                release(connection)
            }.start()
            Thread { [self] in
                connection.answersLoop()
                release(connection)
            }.start()
        }
    }

    /// Forgets a connection once both its threads are done, so that its descriptors are closed:
    /// a client still sending into a connection that was only shut down would not notice the
    /// drop until its timeout; a closed one answers with a reset.
    private func release(_ connection: Connection) {
        guard connection.loopEnded() else { return }
        lock.withLock { connections.removeAll { $0 === connection } }
    }

    /// Client to upstream, one request at a time: read the head, apply a fault or copy it and
    /// its body on.
    private func requestsLoop(_ connection: Connection) {
        defer { connection.closeBoth() }
        while let head = connection.readHead() {
            let fault = lock.withLock { () -> Fault? in
                seen.append("\(head.request.method) \(head.request.target)")
                guard let index = rules.firstIndex(where: { $0.remaining > 0 && $0.matches(head.request) }) else { return nil }
                rules[index].remaining -= 1
                return rules[index].fault
            }
            switch fault {
            case nil:
                guard connection.send(head.bytes, to: connection.upstream),
                      connection.copyBody(head.request.contentLength) else { return }
            case .respond(let status)?:
                let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>Injected\(status)</Code>"
                    + "<Message>answered by the test's fault proxy</Message></Error>"
                let answer = "HTTP/1.1 \(status) Injected\r\nContent-Type: application/xml\r\nContent-Length: \(body.utf8.count)\r\n"
                    + "Connection: close\r\n\r\n\(body)"
                _ = connection.send(Array(answer.utf8), to: connection.client)
                return
            case .dropAfterBodyBytes(let count)?:
                _ = connection.send(head.bytes, to: connection.upstream)
                _ = connection.copyBody(min(count, head.request.contentLength))
                return
            case .stall?:
                connection.waitForClientToGiveUp()
                return
            case .loseAnswer?:
                connection.dropAnswers()
                guard connection.send(head.bytes, to: connection.upstream),
                      connection.copyBody(head.request.contentLength) else { return }
            }
        }
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    struct ProxyError: Error, CustomStringConvertible {
        let problem: String
        var description: String { "fault proxy: \(problem)" }
    }
}
