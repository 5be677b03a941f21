import LetheCrypto
import Testing

@Suite("SecureBytes")
struct SecureBytesTests {
    @Test("init(wiping:) zeroes the source array and keeps its length")
    func wipingZeroesSource() {
        var source: [UInt8] = (1...32).map { UInt8($0) }
        _ = SecureBytes(wiping: &source)
        #expect(source.count == 32)
        #expect(source.allSatisfy { $0 == 0 })
    }

    @Test("init(wiping:) holds the bytes the source held")
    func wipingKeepsCopy() {
        let original: [UInt8] = (1...32).map { UInt8($0) }
        var source = original
        let secret = SecureBytes(wiping: &source)
        #expect(secret.count == 32)
        #expect(contents(of: secret) == original)
    }

    @Test("init(copying:) holds a copy and leaves the source alone")
    func copyingCopies() {
        let source: [UInt8] = [9, 8, 7, 6]
        let secret = source.withUnsafeBytes { SecureBytes(copying: $0) }
        #expect(contents(of: secret) == source)
        #expect(source == [9, 8, 7, 6])
    }

    @Test("init(capacity:fill:) keeps only the bytes fill reports using")
    func fillReportsCount() throws {
        let secret = try SecureBytes(capacity: 16) { buffer in
            for i in 0..<5 { buffer[i] = UInt8(i + 1) }
            return 5
        }
        #expect(secret.count == 5)
        #expect(contents(of: secret) == [1, 2, 3, 4, 5])
    }

    @Test("init(capacity:fill:) hands fill zeroed memory of the requested size")
    func fillGetsZeroedBuffer() throws {
        var seen: [UInt8] = []
        _ = try SecureBytes(capacity: 24) { buffer in
            seen = Array(buffer)
            return buffer.count
        }
        #expect(seen == [UInt8](repeating: 0, count: 24))
    }

    @Test("an error thrown by fill propagates")
    func fillErrorPropagates() {
        struct Refused: Error, Equatable {}
        #expect(throws: Refused()) {
            try SecureBytes(capacity: 8) { _ in throw Refused() }
        }
    }
}
