import Foundation
import Glibc

extension FaultProxy {
    /// One client connection and its upstream twin. Closing is done once, by whichever side
    /// ends first: `shutdown` wakes the other thread's blocking read, and the descriptors are
    /// closed when the object goes away, after both threads are done with them.
    final class Connection: @unchecked Sendable {
        let client: Int32
        let upstream: Int32
        private let lock = NSLock()
        private var closed = false
        private var dropping = false
        private var loopsEnded = 0
        /// Bytes read from the client past the current request's head.
        private var pending: [UInt8] = []

        init(client: Int32, upstream: Int32) {
            self.client = client
            self.upstream = upstream
        }

        deinit {
            Glibc.close(client)
            Glibc.close(upstream)
        }

        func closeBoth() {
            let first = lock.withLock { () -> Bool in
                defer { closed = true }
                return !closed
            }
            guard first else { return }
            Glibc.shutdown(client, Int32(SHUT_RDWR))
            Glibc.shutdown(upstream, Int32(SHUT_RDWR))
        }

        /// Called as each of the two threads ends; true for the second.
        func loopEnded() -> Bool {
            lock.withLock {
                loopsEnded += 1
                return loopsEnded == 2
            }
        }

        /// From now on, the first answer from upstream (other than `100 Continue`) closes the
        /// connection instead of reaching the client.
        func dropAnswers() { lock.withLock { dropping = true } }

        /// Upstream to client: copy bytes, unless the answer is to be dropped.
        func answersLoop() {
            defer { closeBoth() }
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(upstream, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { return }
                let chunk = Array(buffer[..<count])
                let isContinue = chunk.starts(with: Array("HTTP/1.1 100".utf8))
                if lock.withLock({ dropping }) && !isContinue { return }
                guard send(chunk, to: client) else { return }
            }
        }

        /// The next request's head (through the blank line), and what it says; nil at the end.
        func readHead() -> (bytes: [UInt8], request: RequestHead)? {
            let terminator = Array("\r\n\r\n".utf8)
            while true {
                if let end = pending.firstRange(of: terminator)?.upperBound {
                    let bytes = Array(pending[..<end])
                    pending.removeFirst(end)
                    return Self.parse(bytes).map { (bytes, $0) }
                }
                guard pending.count < 64 * 1024, let more = receive(from: client) else { return nil }
                pending += more
            }
        }

        /// Sends `count` body bytes on to upstream: what was read with the head first.
        func copyBody(_ count: Int) -> Bool {
            var remaining = count
            while remaining > 0 {
                if pending.isEmpty {
                    guard let more = receive(from: client) else { return false }
                    pending = more
                }
                let take = min(remaining, pending.count)
                guard send(Array(pending[..<take]), to: upstream) else { return false }
                pending.removeFirst(take)
                remaining -= take
            }
            return true
        }

        /// Reads and discards what the client sends until it closes, for at most a minute.
        func waitForClientToGiveUp() {
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, !lock.withLock({ closed }) {
                var poller = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 100) != 0 else { continue }
                guard receive(from: client) != nil else { return }
            }
        }

        func send(_ bytes: [UInt8], to fd: Int32) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard sent > 0 else { return false }
                offset += sent
            }
            return true
        }

        private func receive(from fd: Int32) -> [UInt8]? {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return count > 0 ? Array(buffer[..<count]) : nil
        }

        private static func parse(_ head: [UInt8]) -> RequestHead? {
            let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
            let first = lines[0].split(separator: " ")
            guard first.count >= 2 else { return nil }
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            return RequestHead(method: String(first[0]), target: String(first[1]), headers: headers)
        }
    }
}
