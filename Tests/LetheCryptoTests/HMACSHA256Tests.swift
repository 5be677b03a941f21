import LetheCrypto
import Testing

@Suite("HMAC-SHA256")
struct HMACSHA256Tests {
    static let rfc4231 = "rfc4231-hmac-sha256.json"

    @Test("the MAC is the RFC 4231 value (Test Case 5: its first 16 bytes)",
          arguments: try Fixtures.vectors(rfc4231, as: HMACVector.self))
    func macMatchesRFC4231(_ vector: HMACVector) throws {
        let mac = try HMACSHA256(key: secure(vector.key)).authenticationCode(for: vector.data)
        #expect(mac.count == HMACSHA256.byteCount)
        if let truncated = vector.truncatedToBytes {
            #expect(Array(mac.prefix(truncated)) == vector.mac)
        } else {
            #expect(mac == vector.mac)
        }
    }

    @Test("one instance authenticates several messages, each as a fresh instance would")
    func instanceIsReusable() throws {
        let vectors = try Fixtures.vectors(Self.rfc4231, as: HMACVector.self)
        let case6 = try #require(vectors.first { $0.name == "Test Case 6" })
        let case7 = try #require(vectors.first { $0.name == "Test Case 7" })
        #expect(case6.key == case7.key)
        let hmac = try HMACSHA256(key: secure(case6.key))
        #expect(try hmac.authenticationCode(for: case6.data) == case6.mac)
        #expect(try hmac.authenticationCode(for: case7.data) == case7.mac)
        #expect(try hmac.authenticationCode(for: case6.data) == case6.mac)
    }

    @Test("one instance can be used from several tasks at once")
    func instanceIsSafeToShare() async throws {
        let vector = try #require(try Fixtures.vectors(Self.rfc4231, as: HMACVector.self).first { $0.name == "Test Case 2" })
        let hmac = try HMACSHA256(key: secure(vector.key))
        let macs = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<32 {
                group.addTask { try hmac.authenticationCode(for: vector.data) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(macs.count == 32)
        #expect(macs.allSatisfy { $0 == vector.mac })
    }

    @Test("a different key gives a different MAC")
    func keyMatters() throws {
        let message = Array("message".utf8)
        let a = try HMACSHA256(key: secure([UInt8](repeating: 1, count: 32))).authenticationCode(for: message)
        let b = try HMACSHA256(key: secure([UInt8](repeating: 2, count: 32))).authenticationCode(for: message)
        #expect(a != b)
    }
}
