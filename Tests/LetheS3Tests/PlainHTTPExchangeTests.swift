import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
@testable import LetheS3
import Testing

/// `PlainHTTPExchange` against a scripted server on loopback: what goes on the wire, the
/// answer forms HTTP/1.1 allows (interim 100, chunked, to the close), and every way an answer
/// fails to come. The S3 contract and fault suites run it against SeaweedFS too (every body
/// request to an `http://` endpoint goes through it).
@Suite struct PlainHTTPExchangeTests {
    /// Accepts one connection, reads one request (head, then Content-Length bytes of body, unless
    /// `readsBody` is false), writes `answer` (unless nil: then it answers nothing and holds the
    /// connection until the client closes; with `repeats`, again and again until the client
    /// closes), and closes. Without `readsBody`, it holds the connection for 10 s unread.
    final class ScriptedServer: @unchecked Sendable {
        let port: UInt16
        private let listener: Int32
        private let lock = NSLock()
        private var head = ""
        private var body: [UInt8] = []
        private let done = DispatchSemaphore(value: 0)

        init(answer: [UInt8]?, readsBody: Bool = true, repeats: Bool = false) {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    precondition(bind(fd, pointer, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, pointer, &length) == 0)
                }
            }
            listener = fd
            port = UInt16(bigEndian: address.sin_port)
            Thread { [self] in serve(answer, readsBody: readsBody, repeats: repeats) }.start()
        }

        deinit { Glibc.close(listener) }

        var url: URL { URL(string: "http://127.0.0.1:\(port)/bucket/a%20key/x?partNumber=2&uploadId=u%2B1")! }

        /// The request the server read: its head (through the blank line) and its body.
        func received() -> (head: String, body: [UInt8]) {
            _ = done.wait(timeout: .now() + 30)
            return lock.withLock { (head, body) }
        }

        private func serve(_ answer: [UInt8]?, readsBody: Bool, repeats: Bool) {
            defer { done.signal() }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            defer { Glibc.close(client) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            func more() -> Bool {
                let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                if count > 0 { bytes += chunk[..<count] }
                return count > 0
            }
            let terminator = Array("\r\n\r\n".utf8)
            while bytes.firstRange(of: terminator) == nil { guard more() else { return } }
            let end = bytes.firstRange(of: terminator)!.upperBound
            let head = String(decoding: bytes[..<end], as: UTF8.self)
            let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            while readsBody, bytes.count - end < length { guard more() else { break } }
            lock.withLock {
                self.head = head
                self.body = Array(bytes[end...])
            }
            guard let answer else {
                while more() {}  // until the client gives up
                return
            }
            repeat {
                guard answer.withUnsafeBytes({ send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) > 0 else { return }
            } while repeats
            if !readsBody { Thread.sleep(forTimeInterval: 10) }
        }
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func theRequestGoesOnTheWireAsSignedWithItsWholeBody() throws {
        let server = ScriptedServer(answer: Self.bytes("HTTP/1.1 200 OK\r\nETag: \"abc\"\r\nContent-Length: 0\r\n\r\n"))
        var body = [UInt8](repeating: 0, count: 9 << 20)
        for index in body.indices { body[index] = UInt8(truncatingIfNeeded: index &* 2_654_435_761 >> 13) }
        let result = PlainHTTPExchange(timeout: 30).send(
            method: "PUT", url: server.url, headers: ["x-amz-date": "20261202T120000Z", "Authorization": "AWS4-HMAC-SHA256 x"],
            body: Data(body))
        let response = try result.get()
        #expect(response.status == 200)
        #expect(response.header("ETag") == "\"abc\"")
        let (head, received) = server.received()
        let lines = head.components(separatedBy: "\r\n")
        // The target keeps the URL's percent-encoding: it is what the signature covers.
        #expect(lines[0] == "PUT /bucket/a%20key/x?partNumber=2&uploadId=u%2B1 HTTP/1.1")
        #expect(lines.contains("Host: 127.0.0.1:\(server.port)"))
        #expect(lines.contains("Content-Length: \(body.count)"))
        #expect(lines.contains("Connection: close"))
        #expect(lines.contains("x-amz-date: 20261202T120000Z"))
        #expect(received == body)
    }

    @Test func anInterimAnswerIsSkippedAndAChunkedBodyIsJoined() throws {
        let answer = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Amz-Request-Id: r1\r\n\r\n"
            + "5\r\n<Comp\r\n10;ext=1\r\nleteMultipartUpl\r\n6\r\noad/>\n\r\n0\r\nX-Trailer: t\r\n\r\n"
        let server = ScriptedServer(answer: Self.bytes(answer))
        let response = try PlainHTTPExchange(timeout: 30).send(method: "POST", url: server.url, headers: [:], body: Data([1, 2, 3])).get()
        #expect(response.status == 200)
        #expect(response.header("x-amz-request-id") == "r1")
        #expect(String(decoding: response.body, as: UTF8.self) == "<CompleteMultipartUpload/>\n")
    }

    @Test func anAnswerWithoutLengthIsReadToTheClose() throws {
        let server = ScriptedServer(answer: Self.bytes("HTTP/1.1 500 Internal Server Error\r\n\r\n<Error><Code>InternalError</Code></Error>"))
        let response = try PlainHTTPExchange(timeout: 30).send(method: "PUT", url: server.url, headers: [:], body: Data([7])).get()
        #expect(response.status == 500)
        #expect(String(decoding: response.body, as: UTF8.self) == "<Error><Code>InternalError</Code></Error>")
    }

    @Test func anAnswerCutShortOfItsLengthIsAConnectionFailure() throws {
        let server = ScriptedServer(answer: Self.bytes("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n<partial"))
        var request = URLRequest(url: server.url)
        request.httpMethod = "PUT"
        request.httpBody = Data([1])
        let result = HTTPTransport(timeout: 30).send(request)
        #expect(result.failure == .connection("the answer had 8 of its 100 bytes"))
    }

    @Test(arguments: ["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n", "garbage\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n",
                      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                      // A chunk size that would overflow the body's length.
                      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n7fffffffffffffff\r\n",
                      "HTTP/1.1 200 OK\r\nX-Long: " + String(repeating: "a", count: 70_000) + "\r\n\r\n"])
    func aMalformedOrUnfinishedAnswerIsAConnectionFailure(_ answer: String) {
        let server = ScriptedServer(answer: Self.bytes(answer))
        let result = PlainHTTPExchange(timeout: 30).send(method: "PUT", url: server.url, headers: [:], body: Data([1]))
        guard case .connection? = result.failure else {
            Issue.record("expected a connection failure, got \(result)")
            return
        }
    }

    @Test func anAnswerBeforeTheBodyIsSentIsReturnedWithoutWaitingForTheDeadline() throws {
        // The server refuses after the head and reads no more: more body than the socket
        // buffers on both sides hold is never sent.
        let server = ScriptedServer(answer: Self.bytes("HTTP/1.1 403 Forbidden\r\nContent-Length: 7\r\n\r\nskewed!"), readsBody: false)
        let started = Date()
        let response = try PlainHTTPExchange(timeout: 30).send(
            method: "PUT", url: server.url, headers: [:], body: Data(count: 64 << 20)).get()
        #expect(response.status == 403 && String(decoding: response.body, as: UTF8.self) == "skewed!")
        #expect(Date().timeIntervalSince(started) < 5, "not after the server's 10 s hold")
    }

    @Test func aServerThatSendsInterimAnswersWithoutEndTimesOut() {
        let server = ScriptedServer(answer: Self.bytes(String(repeating: "HTTP/1.1 100 Continue\r\n\r\n", count: 1000)), repeats: true)
        let started = Date()
        let result = PlainHTTPExchange(timeout: 1).send(method: "PUT", url: server.url, headers: [:], body: Data([1]))
        // The deadline, or the cap on what one answer may read, whichever comes first.
        #expect(result.failure == .timedOut(1) || result.failure == .connection("bad server response"))
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test func a204HasNoBodyWhateverItsHeadersSay() throws {
        let server = ScriptedServer(answer: Self.bytes("HTTP/1.1 204 No Content\r\n\r\n"), readsBody: false)
        let started = Date()
        let response = try PlainHTTPExchange(timeout: 30).send(method: "POST", url: server.url, headers: [:], body: Data([1])).get()
        #expect(response.status == 204 && response.body.isEmpty)
        #expect(Date().timeIntervalSince(started) < 5, "not read to the close (the server holds the connection 10 s)")
    }

    @Test func aServerThatNeverAnswersTimesOut() {
        let server = ScriptedServer(answer: nil)
        let started = Date()
        let result = PlainHTTPExchange(timeout: 1).send(method: "PUT", url: server.url, headers: [:], body: Data([1, 2]))
        #expect(result.failure == .timedOut(1))
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(server.received().body == [1, 2])
    }

    @Test func aPortNobodyListensOnIsConnectionRefused() {
        // A port bound but never listened on refuses connections.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { precondition(bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0) }
        }
        let url = URL(string: "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))/bucket/k")!
        let result = PlainHTTPExchange(timeout: 5).send(method: "PUT", url: url, headers: [:], body: Data([1]))
        #expect(result.failure == .connection("connection refused"))
    }

    @Test func aHeaderWithALineBreakIsNeverSent() {
        let result = PlainHTTPExchange(timeout: 5).send(
            method: "PUT", url: URL(string: "http://127.0.0.1:1/bucket/k")!,
            headers: ["x-amz-meta-a": "1\r\nx-amz-meta-b: 2"], body: Data([1]))
        #expect(result.failure == .connection("header x-amz-meta-a holds a line break"))
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
