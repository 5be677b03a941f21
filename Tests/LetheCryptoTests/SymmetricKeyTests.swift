import LetheCrypto
import Testing

@Suite("SymmetricKey")
struct SymmetricKeyTests {
    @Test("16-, 24- and 32-byte keys are accepted", arguments: [16, 24, 32])
    func acceptsAESSizes(size: Int) throws {
        let key = try symmetricKey([UInt8](repeating: 0x5a, count: size))
        #expect(key.byteCount == size)
        #expect(key.withUnsafeBytes { Array($0) } == [UInt8](repeating: 0x5a, count: size))
    }

    @Test("any other size from 0 to 64 bytes is refused with invalidKeySize",
          arguments: (0...64).filter { ![16, 24, 32].contains($0) })
    func refusesOtherSizes(size: Int) {
        #expect(throws: CryptoError.invalidKeySize(size)) {
            try symmetricKey([UInt8](repeating: 0x5a, count: size))
        }
    }

    @Test("generate makes a 256-bit key")
    func generatesAES256Key() throws {
        #expect(try SymmetricKey.generate().byteCount == 32)
    }

    @Test("two generated keys differ")
    func generatedKeysDiffer() throws {
        let a = try SymmetricKey.generate().withUnsafeBytes { Array($0) }
        let b = try SymmetricKey.generate().withUnsafeBytes { Array($0) }
        #expect(a != b)
    }
}
