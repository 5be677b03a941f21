import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 request with a body over a TCP connection of its own (`Connection: close`), for
/// `http://` endpoints; TLS endpoints keep URLSession.
///
/// Why not URLSession for these: on Linux it drives libcurl through libdispatch, and libcurl
/// sends a body 64 KiB per event-loop round, each round a hand-off between dispatch threads
/// (strace: about fifteen system calls and two thread wake-ups per 64 KiB sent). Against an
/// S3 server sharing the machine's cores, that cost 3 to 4 CPU seconds per 256 MiB uploaded,
/// as much as the server spent storing it (docs/s3.md, "What a body costs"). Here the body is
/// handed to the kernel in as few `send` calls as the socket buffer allows.
///
/// The exchange is deliberately small: no redirects, no `Expect: 100-continue`, no reuse; an
/// answer is read to its Content-Length, through chunked encoding, or to the close. Everything
/// it cannot make sense of is a `TransportFailure`, so `S3Client`'s retries apply as they do to
/// URLSession's failures. One deadline covers connecting, sending and reading.
struct PlainHTTPExchange {
    /// The longest answer body accepted: answers to body requests are short XML.
    static let maximumAnswer = 4 << 20
    /// The longest answer head accepted (status line and headers).
    static let maximumHead = 64 << 10

    let timeout: TimeInterval

    func send(method: String, url: URL, headers: [String: String], body: Data) -> Result<HTTPResponse, TransportFailure> {
        // `URL.host` is what S3Client signed the Host header from.
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: false),
              let host = url.host?.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), !host.isEmpty else {
            return .failure(.connection("the URL has no host"))
        }
        let port = url.port ?? 80
        var target = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery { target += "?" + query }
        let hostHeader = (host.contains(":") ? "[\(host)]" : host) + (port == 80 ? "" : ":\(port)")
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            let lower = name.lowercased()
            guard lower != "host", lower != "content-length", lower != "connection", lower != "transfer-encoding" else { continue }
            // A line break in a header would let it start another header or request.
            guard !name.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 58 }),
                  !value.utf8.contains(where: { $0 == 13 || $0 == 10 }) else {
                return .failure(.connection("header \(name) holds a line break"))
            }
            head += "\(name): \(value)\r\n"
        }
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"

        let deadline = Deadline(seconds: timeout)
        let socket: Socket
        switch Socket.connect(host: host, port: port, deadline: deadline) {
        case .success(let connected): socket = connected
        case .failure(let failure): return .failure(failure)
        }
        defer { socket.close() }

        var sendFailure: TransportFailure?
        let headBytes = Array(head.utf8)
        if case .failure(let failure) = headBytes.withUnsafeBytes({ socket.sendAll($0, deadline: deadline) }) {
            sendFailure = failure
        } else if case .failure(let failure) = body.withUnsafeBytes({ socket.sendAll($0, deadline: deadline) }) {
            sendFailure = failure
        }
        if case .timedOut? = sendFailure { return .failure(sendFailure!) }
        // A server may answer before it has read the whole body (a refusal), then close or
        // stop reading: sending stops as soon as an answer is readable, and that answer is the
        // one to return, when it comes whole.
        var reader = AnswerReader(socket: socket, deadline: deadline)
        switch reader.read() {
        case .success(let response): return .success(response)
        case .failure(let failure):
            return .failure(sendFailure ?? failure)
        }
    }
}

/// A point on the monotonic clock by which the exchange must be over.
private struct Deadline {
    let seconds: TimeInterval
    private let end: timespec

    init(seconds: TimeInterval) {
        self.seconds = seconds
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let total = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 + seconds
        end = timespec(tv_sec: Int(total), tv_nsec: Int((total - Double(Int(total))) * 1e9))
    }

    /// Milliseconds left, for poll(2); 0 when the deadline has passed.
    var millisecondsLeft: Int32 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let left = Double(end.tv_sec - now.tv_sec) * 1000 + Double(end.tv_nsec - now.tv_nsec) / 1e6
        return left <= 0 ? 0 : Int32(min(left.rounded(.up), Double(Int32.max)))
    }
}

/// A non-blocking TCP socket; the exchange owns it and closes it exactly once.
private struct Socket {
    let fd: Int32

    func close() { _ = Glibc.close(fd) }

    /// Connects to the first address of `host` that accepts.
    static func connect(host: String, port: Int, deadline: Deadline) -> Result<Socket, TransportFailure> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let first = list else { return .failure(.connection("host not found")) }
        defer { freeaddrinfo(first) }
        var failure = TransportFailure.connection("connection refused")
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let address = next?.pointee {
            next = address.ai_next
            let fd = socket(address.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
                            address.ai_protocol)
            guard fd >= 0 else { continue }
            let socket = Socket(fd: fd)
            var one: Int32 = 1
            // The last segment of a body must not wait for the server's delayed ACK.
            _ = setsockopt(fd, Int32(IPPROTO_TCP), 1 /* TCP_NODELAY */, &one, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(fd, address.ai_addr, address.ai_addrlen) == 0 { return .success(socket) }
            if errno == EINPROGRESS {
                switch socket.wait(for: Int16(POLLOUT), deadline: deadline) {
                case .success:
                    var error: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    if getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0, error == 0 { return .success(socket) }
                    failure = .connection(error == ECONNREFUSED ? "connection refused" : "cannot connect (errno \(error))")
                case .failure(let waitFailure):
                    failure = waitFailure
                }
            } else {
                failure = .connection(errno == ECONNREFUSED ? "connection refused" : "cannot connect (errno \(errno))")
            }
            socket.close()
            if case .timedOut = failure { break }
        }
        return .failure(failure)
    }

    /// Waits until the socket is ready for some of `events` or has failed (both end the wait);
    /// returns the events that happened.
    @discardableResult
    func wait(for events: Int16, deadline: Deadline) -> Result<Int16, TransportFailure> {
        while true {
            let left = deadline.millisecondsLeft
            guard left > 0 else { return .failure(.timedOut(deadline.seconds)) }
            var poller = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&poller, 1, left)
            if ready > 0 { return .success(poller.revents) }
            if ready < 0, errno != EINTR { return .failure(.connection("poll failed (errno \(errno))")) }
        }
    }

    func sendAll(_ bytes: UnsafeRawBufferPointer, deadline: Deadline) -> Result<Void, TransportFailure> {
        var offset = 0
        while offset < bytes.count {
            let sent = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if sent > 0 {
                offset += sent
            } else if sent < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                switch wait(for: Int16(POLLOUT) | Int16(POLLIN), deadline: deadline) {
                case .failure(let failure): return .failure(failure)
                case .success(let events) where events & Int16(POLLIN) != 0 && events & Int16(POLLOUT) == 0:
                    return .failure(.connection("the server answered before the whole body was sent"))
                case .success: continue
                }
            } else if sent < 0, errno == EINTR {
                continue
            } else {
                return .failure(.connection("connection lost"))
            }
        }
        return .success(())
    }

    /// Up to `count` bytes; an empty array at the end of the stream.
    func receive(into buffer: inout [UInt8], count: Int, deadline: Deadline) -> Result<Int, TransportFailure> {
        while true {
            let start = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: count))
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + start, count, 0) }
            let error = errno
            buffer.removeLast(count - max(received, 0))
            if received >= 0 { return .success(received) }
            if error == EAGAIN || error == EWOULDBLOCK {
                if case .failure(let failure) = wait(for: Int16(POLLIN), deadline: deadline) { return .failure(failure) }
            } else if error != EINTR {
                return .failure(.connection("connection lost"))
            }
        }
    }
}

/// Reads one HTTP/1.1 answer (skipping any 1xx interim answers) from a socket.
private struct AnswerReader {
    let socket: Socket
    let deadline: Deadline
    private var buffer: [UInt8] = []
    private var position = 0
    /// Everything read so far: interim answers, heads and trailers count too, so that a server
    /// that never stops sending cannot keep the exchange going.
    private var total = 0

    init(socket: Socket, deadline: Deadline) {
        self.socket = socket
        self.deadline = deadline
    }

    mutating func read() -> Result<HTTPResponse, TransportFailure> {
        do {
            while true {
                let (status, headers) = try readHead()
                if (100...199).contains(status) { continue }
                // 204 and 304 never carry a body, whatever their headers say.
                let body = status == 204 || status == 304 ? Data() : try readBody(headers)
                return .success(HTTPResponse(status: status, headers: headers, body: body))
            }
        } catch let failure as TransportFailure {
            return .failure(failure)
        } catch {
            return .failure(.connection("\(error)"))
        }
    }

    private mutating func readHead() throws -> (Int, [String: String]) {
        var lines: [String] = []
        var size = 0
        while true {
            let line = try readLine()
            size += line.utf8.count + 2
            guard size <= PlainHTTPExchange.maximumHead else { throw TransportFailure.connection("bad server response") }
            if line.isEmpty {
                if lines.isEmpty { continue }  // a stray blank line before the status line
                break
            }
            lines.append(line)
        }
        let statusLine = lines[0].split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), statusLine[1].count == 3,
              let status = Int(statusLine[1]) else {
            throw TransportFailure.connection("bad server response")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { throw TransportFailure.connection("bad server response") }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { "\($0), \(value)" } ?? value
        }
        return (status, headers)
    }

    private mutating func readBody(_ headers: [String: String]) throws -> Data {
        if let encoding = headers["transfer-encoding"], encoding.lowercased().contains("chunked") {
            var body = Data()
            while true {
                let sizeLine = try readLine()
                let digits = sizeLine.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                guard let size = Int(digits, radix: 16), size >= 0, size <= PlainHTTPExchange.maximumAnswer - body.count else {
                    throw TransportFailure.connection("bad server response")
                }
                if size == 0 {
                    while try !readLine().isEmpty {}  // trailers
                    return body
                }
                body.append(contentsOf: try readBytes(size))
                guard try readLine().isEmpty else { throw TransportFailure.connection("bad server response") }
            }
        }
        if let length = headers["content-length"] {
            // A length the answer does not keep to is caught by HTTPTransport's check.
            guard let count = Int(length), count >= 0, count <= PlainHTTPExchange.maximumAnswer else {
                throw TransportFailure.connection("bad server response")
            }
            return Data(try readBytes(count, toEndIfShort: true))
        }
        return Data(try readToEnd())
    }

    private mutating func readLine() throws -> String {
        while true {
            if let newline = buffer[position...].firstIndex(of: 10) {
                var end = newline
                if end > position, buffer[end - 1] == 13 { end -= 1 }
                let line = String(decoding: buffer[position..<end], as: UTF8.self)
                position = newline + 1
                return line
            }
            guard buffer.count - position < 64 * 1024 else { throw TransportFailure.connection("bad server response") }
            guard try fill() > 0 else { throw TransportFailure.connection("the connection closed before a whole answer") }
        }
    }

    /// `count` bytes; with `toEndIfShort`, fewer when the stream ends first.
    private mutating func readBytes(_ count: Int, toEndIfShort: Bool = false) throws -> [UInt8] {
        while buffer.count - position < count {
            guard try fill() > 0 else {
                if toEndIfShort { break }
                throw TransportFailure.connection("the connection closed before a whole answer")
            }
        }
        let end = min(buffer.count, position + count)
        defer { position = end }
        return Array(buffer[position..<end])
    }

    private mutating func readToEnd() throws -> [UInt8] {
        while try fill() > 0 {
            guard buffer.count - position <= PlainHTTPExchange.maximumAnswer else {
                throw TransportFailure.connection("bad server response")
            }
        }
        defer { position = buffer.count }
        return Array(buffer[position...])
    }

    /// Reads more into the buffer; 0 at the end of the stream.
    private mutating func fill() throws -> Int {
        // A server that sends faster than this reads never makes recv wait, so the deadline
        // is checked here too, not only while waiting.
        guard deadline.millisecondsLeft > 0 else { throw TransportFailure.timedOut(deadline.seconds) }
        guard total <= PlainHTTPExchange.maximumAnswer + 4 * PlainHTTPExchange.maximumHead else {
            throw TransportFailure.connection("bad server response")
        }
        if position > 0 {
            buffer.removeFirst(position)
            position = 0
        }
        switch socket.receive(into: &buffer, count: 64 * 1024, deadline: deadline) {
        case .success(let count):
            total += count
            return count
        case .failure(let failure): throw failure
        }
    }
}
