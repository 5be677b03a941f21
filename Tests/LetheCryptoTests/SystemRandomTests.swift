import LetheCrypto
import Testing

@Suite("SystemRandom")
struct SystemRandomTests {
    @Test("bytes returns exactly the requested count", arguments: [0, 1, 12, 32, 1000])
    func bytesCount(count: Int) throws {
        #expect(try SystemRandom.bytes(count: count).count == count)
    }

    @Test("secureBytes returns exactly the requested count", arguments: [0, 1, 32, 64])
    func secureBytesCount(count: Int) throws {
        let secret = try SystemRandom.secureBytes(count: count)
        #expect(secret.count == count)
        #expect(contents(of: secret).count == count)
    }

    @Test("two 32-byte draws from bytes differ")
    func bytesDrawsDiffer() throws {
        #expect(try SystemRandom.bytes(count: 32) != SystemRandom.bytes(count: 32))
    }

    @Test("two 32-byte draws from secureBytes differ")
    func secureBytesDrawsDiffer() throws {
        #expect(contents(of: try SystemRandom.secureBytes(count: 32)) != contents(of: try SystemRandom.secureBytes(count: 32)))
    }

    @Test("a 32-byte draw is not all zeros")
    func drawIsNotZero() throws {
        #expect(try SystemRandom.bytes(count: 32).contains { $0 != 0 })
        #expect(contents(of: try SystemRandom.secureBytes(count: 32)).contains { $0 != 0 })
    }
}
