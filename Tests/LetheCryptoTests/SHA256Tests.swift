import LetheCrypto
import Testing

@Suite("SHA-256")
struct SHA256Tests {
    static let fips180 = "fips180-sha256.json"

    @Test("hash gives the FIPS 180-2 Appendix B digest", arguments: try Fixtures.vectors(fips180, as: SHA256Vector.self))
    func hashMatchesPublishedDigest(_ vector: SHA256Vector) throws {
        #expect(try SHA256.hash(vector.message) == vector.digest)
    }

    @Test("feeding a message in pieces gives the same digest as hashing it at once",
          arguments: try Fixtures.vectors(fips180, as: SHA256Vector.self))
    func streamingMatchesPublishedDigest(_ vector: SHA256Vector) throws {
        // Uneven pieces, so that they straddle the 64-byte block boundaries.
        let hasher = try SHA256()
        var offset = 0
        var size = 1
        while offset < vector.message.count {
            let end = min(offset + size, vector.message.count)
            try hasher.update(Array(vector.message[offset..<end]))
            offset = end
            size = size * 3 % 997 + 1
        }
        #expect(try hasher.finalize() == vector.digest)
    }

    @Test("feeding one byte at a time gives the published digest of the 448-bit message")
    func byteAtATimeMatchesPublishedDigest() throws {
        let vector = try #require(try Fixtures.vectors(Self.fips180, as: SHA256Vector.self).first { $0.message.count == 56 })
        let hasher = try SHA256()
        for byte in vector.message { try hasher.update([byte]) }
        #expect(try hasher.finalize() == vector.digest)
    }

    @Test("empty updates do not change the digest")
    func emptyUpdatesAreNoOps() throws {
        let vector = try #require(try Fixtures.vectors(Self.fips180, as: SHA256Vector.self).first { $0.message == Array("abc".utf8) })
        let hasher = try SHA256()
        try hasher.update([])
        try hasher.update(Array("ab".utf8))
        try hasher.update(UnsafeRawBufferPointer(start: nil, count: 0))
        try hasher.update(Array("c".utf8))
        #expect(try hasher.finalize() == vector.digest)
    }

    @Test("the buffer-pointer and array forms of hash agree")
    func pointerAndArrayFormsAgree() throws {
        let message = Array("The quick brown fox jumps over the lazy dog".utf8)
        let viaPointer = try message.withUnsafeBytes { try SHA256.hash($0) }
        #expect(viaPointer == (try SHA256.hash(message)))
        #expect(viaPointer.count == SHA256.byteCount)
    }
}
