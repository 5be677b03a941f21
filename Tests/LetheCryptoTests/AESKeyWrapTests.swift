import LetheCrypto
import Testing

@Suite("AES key wrap with padding (RFC 5649)")
struct AESKeyWrapTests {
    static let rfc5649 = "rfc5649-keywrap.json"

    @Test("wrap gives the RFC 5649 wrapped key", arguments: try Fixtures.vectors(rfc5649, as: KeyWrapVector.self))
    func wrapMatchesRFC5649(_ vector: KeyWrapVector) throws {
        #expect(vector.kek.count == 24)
        #expect(try AESKeyWrap.wrap(secure(vector.key), using: symmetricKey(vector.kek)) == vector.wrapped)
    }

    @Test("unwrap recovers the RFC 5649 key", arguments: try Fixtures.vectors(rfc5649, as: KeyWrapVector.self))
    func unwrapMatchesRFC5649(_ vector: KeyWrapVector) throws {
        let key = try AESKeyWrap.unwrap(vector.wrapped, using: symmetricKey(vector.kek))
        #expect(contents(of: key) == vector.key)
    }

    @Test("a key round-trips under a 256-bit KEK", arguments: [1, 7, 8, 9, 20, 32, 64])
    func roundTripUnder256BitKEK(keyLength: Int) throws {
        let kek = try SymmetricKey.generate()
        #expect(kek.byteCount == 32)
        let key = try SystemRandom.bytes(count: keyLength)
        let wrapped = try AESKeyWrap.wrap(secure(key), using: kek)
        #expect(wrapped.count == 8 + (keyLength + 7) / 8 * 8)
        #expect(contents(of: try AESKeyWrap.unwrap(wrapped, using: kek)) == key)
    }

    @Test("a key round-trips under a 128-bit KEK")
    func roundTripUnder128BitKEK() throws {
        let kek = try symmetricKey(try SystemRandom.bytes(count: 16))
        let key = try SystemRandom.bytes(count: 32)
        let wrapped = try AESKeyWrap.wrap(secure(key), using: kek)
        #expect(contents(of: try AESKeyWrap.unwrap(wrapped, using: kek)) == key)
    }

    @Test("the same key wrapped under different KEKs gives different results")
    func wrappingDependsOnKEK() throws {
        let key = secure(try SystemRandom.bytes(count: 32))
        let a = try AESKeyWrap.wrap(key, using: SymmetricKey.generate())
        let b = try AESKeyWrap.wrap(key, using: SymmetricKey.generate())
        #expect(a != b)
    }

    @Test("unwrap under the wrong KEK fails authentication")
    func unwrapRefusesWrongKEK() throws {
        let kek = try SymmetricKey.generate()
        let wrapped = try AESKeyWrap.wrap(secure(try SystemRandom.bytes(count: 32)), using: kek)
        let wrongKEK = try SymmetricKey.generate()
        #expect(throws: CryptoError.authenticationFailure) {
            try AESKeyWrap.unwrap(wrapped, using: wrongKEK)
        }
    }

    @Test("unwrap of an RFC 5649 vector under the wrong KEK fails authentication",
          arguments: try Fixtures.vectors(rfc5649, as: KeyWrapVector.self))
    func unwrapVectorRefusesWrongKEK(_ vector: KeyWrapVector) throws {
        let wrongKEK = try symmetricKey(flippingBit(0, ofByte: 0, in: vector.kek))
        #expect(throws: CryptoError.authenticationFailure) {
            try AESKeyWrap.unwrap(vector.wrapped, using: wrongKEK)
        }
    }

    @Test("unwrap of a modified wrapped key fails authentication", arguments: [0, 8, 39])
    func unwrapRefusesModifiedWrappedKey(byte: Int) throws {
        let kek = try SymmetricKey.generate()
        let wrapped = try AESKeyWrap.wrap(secure(try SystemRandom.bytes(count: 32)), using: kek)
        let modified = flippingBit(5, ofByte: byte, in: wrapped)
        #expect(throws: CryptoError.authenticationFailure) {
            try AESKeyWrap.unwrap(modified, using: kek)
        }
    }

    @Test("unwrap of a modified RFC 5649 vector fails authentication",
          arguments: try Fixtures.vectors(rfc5649, as: KeyWrapVector.self))
    func unwrapVectorRefusesModification(_ vector: KeyWrapVector) throws {
        let modified = flippingBit(0, ofByte: vector.wrapped.count - 1, in: vector.wrapped)
        #expect(throws: CryptoError.authenticationFailure) {
            try AESKeyWrap.unwrap(modified, using: symmetricKey(vector.kek))
        }
    }

    @Test("wrapping an empty key is refused as invalid input")
    func wrapRefusesEmptyKey() throws {
        let error = #expect(throws: CryptoError.self) {
            try AESKeyWrap.wrap(secure([]), using: SymmetricKey.generate())
        }
        #expect(error?.isInvalidInput == true)
    }

    @Test("unwrap refuses input that is shorter than 16 bytes or not a multiple of 8", arguments: [0, 8, 15, 17, 23])
    func unwrapRefusesMalformedLength(length: Int) throws {
        let error = #expect(throws: CryptoError.self) {
            try AESKeyWrap.unwrap([UInt8](repeating: 0xa6, count: length), using: SymmetricKey.generate())
        }
        #expect(error?.isInvalidInput == true)
    }
}
