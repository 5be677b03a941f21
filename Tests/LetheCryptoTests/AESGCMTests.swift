import LetheCrypto
import Testing

@Suite("AES-256-GCM")
struct AESGCMTests {
    static let specVectors = "nist-gcm-aes256.json"
    static let cavpVectors = "nist-cavp-gcm-aes256.json"

    static func allPassingVectors() throws -> [GCMVector] {
        try Fixtures.vectors(specVectors, as: GCMVector.self) + Fixtures.vectors(cavpVectors, as: GCMVector.self).filter(\.passes)
    }

    /// GCM spec Test Case 16: 60-byte plaintext and 20 bytes of AAD, the base of the tampering tests.
    static func testCase16() throws -> GCMVector {
        let vector = try #require(try Fixtures.vectors(specVectors, as: GCMVector.self).first { $0.name == "Test Case 16" })
        #expect(!vector.aad.isEmpty && !vector.ciphertext.isEmpty)
        return vector
    }

    // MARK: Published vectors

    @Test("seal produces exactly ciphertext ‖ tag of the published vector", arguments: try allPassingVectors())
    func sealMatchesVector(_ vector: GCMVector) throws {
        let plaintext = try #require(vector.plaintext)
        let sealed = try AESGCM.seal(plaintext, key: symmetricKey(vector.key), nonce: vector.iv, authenticating: vector.aad)
        #expect(sealed == vector.sealedBox)
    }

    @Test("open returns the published plaintext", arguments: try allPassingVectors())
    func openMatchesVector(_ vector: GCMVector) throws {
        let plaintext = try AESGCM.open(vector.sealedBox, key: symmetricKey(vector.key), nonce: vector.iv, authenticating: vector.aad)
        #expect(plaintext == vector.plaintext)
    }

    @Test("open refuses the CAVP gcmDecrypt256 FAIL entries",
          arguments: try Fixtures.vectors(cavpVectors, as: GCMVector.self).filter { !$0.passes })
    func openRefusesFailVector(_ vector: GCMVector) throws {
        let key = try symmetricKey(vector.key)
        #expect(throws: CryptoError.authenticationFailure) {
            try AESGCM.open(vector.sealedBox, key: key, nonce: vector.iv, authenticating: vector.aad)
        }
    }

    @Test("the CAVP fixture holds at least one FAIL entry")
    func cavpFixtureHasFailEntries() throws {
        let vectors = try Fixtures.vectors(Self.cavpVectors, as: GCMVector.self)
        #expect(vectors.contains { !$0.passes })
        #expect(vectors.contains { $0.passes })
    }

    @Test("seal appends ciphertext ‖ tag after what the output already holds")
    func sealAppendsToOutput() throws {
        let vector = try Self.testCase16()
        let prefix: [UInt8] = [0xde, 0xad, 0xbe, 0xef]
        var output = prefix
        try vector.plaintext!.withUnsafeBytes { pt in
            try vector.aad.withUnsafeBytes { ad in
                try AESGCM.seal(pt, key: symmetricKey(vector.key), nonce: vector.iv, authenticating: ad, appendingTo: &output)
            }
        }
        #expect(output == prefix + vector.sealedBox)
    }

    @Test("a failed seal leaves the output as it was")
    func failedSealLeavesOutputUnchanged() throws {
        let vector = try Self.testCase16()
        let prefix: [UInt8] = [1, 2, 3]
        var output = prefix
        #expect(throws: CryptoError.self) {
            try vector.plaintext!.withUnsafeBytes { pt in
                try vector.aad.withUnsafeBytes { ad in
                    try AESGCM.seal(pt, key: symmetricKey(vector.key), nonce: [0, 1, 2, 3, 4, 5, 6, 7], authenticating: ad, appendingTo: &output)
                }
            }
        }
        #expect(output == prefix)
    }

    @Test("a random plaintext round-trips through seal and open")
    func roundTrip() throws {
        let key = try SymmetricKey.generate()
        let nonce = try SystemRandom.bytes(count: AESGCM.nonceByteCount)
        let plaintext = try SystemRandom.bytes(count: 1000)
        let aad = Array("tenant=42".utf8)
        let sealed = try AESGCM.seal(plaintext, key: key, nonce: nonce, authenticating: aad)
        #expect(sealed.count == plaintext.count + AESGCM.tagByteCount)
        #expect(try AESGCM.open(sealed, key: key, nonce: nonce, authenticating: aad) == plaintext)
    }

    // MARK: Tampering

    @Test("open refuses a box with one ciphertext bit flipped", arguments: [0, 31, 59])
    func openRefusesFlippedCiphertextBit(byte: Int) throws {
        let vector = try Self.testCase16()
        let box = flippingBit(3, ofByte: byte, in: vector.sealedBox)
        #expect(throws: CryptoError.authenticationFailure) {
            try AESGCM.open(box, key: symmetricKey(vector.key), nonce: vector.iv, authenticating: vector.aad)
        }
    }

    @Test("open refuses a box with one tag bit flipped", arguments: [0, 15])
    func openRefusesFlippedTagBit(tagByte: Int) throws {
        let vector = try Self.testCase16()
        let box = flippingBit(0, ofByte: vector.ciphertext.count + tagByte, in: vector.sealedBox)
        #expect(throws: CryptoError.authenticationFailure) {
            try AESGCM.open(box, key: symmetricKey(vector.key), nonce: vector.iv, authenticating: vector.aad)
        }
    }

    @Test("open refuses associated data with one bit flipped")
    func openRefusesFlippedAADBit() throws {
        let vector = try Self.testCase16()
        let aad = flippingBit(7, ofByte: vector.aad.count - 1, in: vector.aad)
        #expect(throws: CryptoError.authenticationFailure) {
            try AESGCM.open(vector.sealedBox, key: symmetricKey(vector.key), nonce: vector.iv, authenticating: aad)
        }
    }

    @Test("open refuses a box when the associated data is left out")
    func openRefusesMissingAAD() throws {
        let vector = try Self.testCase16()
        #expect(throws: CryptoError.authenticationFailure) {
            try AESGCM.open(vector.sealedBox, key: symmetricKey(vector.key), nonce: vector.iv, authenticating: [])
        }
    }

    @Test("open refuses a box under the wrong key")
    func openRefusesWrongKey() throws {
        let vector = try Self.testCase16()
        let wrongKey = try symmetricKey(flippingBit(0, ofByte: 31, in: vector.key))
        #expect(throws: CryptoError.authenticationFailure) {
            try AESGCM.open(vector.sealedBox, key: wrongKey, nonce: vector.iv, authenticating: vector.aad)
        }
    }

    @Test("open refuses a box under the wrong nonce")
    func openRefusesWrongNonce() throws {
        let vector = try Self.testCase16()
        let wrongNonce = flippingBit(0, ofByte: 11, in: vector.iv)
        #expect(throws: CryptoError.authenticationFailure) {
            try AESGCM.open(vector.sealedBox, key: symmetricKey(vector.key), nonce: wrongNonce, authenticating: vector.aad)
        }
    }

    @Test("open refuses a box with its last byte cut off")
    func openRefusesTruncatedBox() throws {
        let vector = try Self.testCase16()
        let box = Array(vector.sealedBox.dropLast())
        #expect(throws: CryptoError.authenticationFailure) {
            try AESGCM.open(box, key: symmetricKey(vector.key), nonce: vector.iv, authenticating: vector.aad)
        }
    }

    @Test("open refuses a box with its first byte cut off")
    func openRefusesBoxMissingItsFirstByte() throws {
        let vector = try Self.testCase16()
        let box = Array(vector.sealedBox.dropFirst())
        #expect(throws: CryptoError.authenticationFailure) {
            try AESGCM.open(box, key: symmetricKey(vector.key), nonce: vector.iv, authenticating: vector.aad)
        }
    }

    @Test("open refuses a box shorter than the 16-byte tag as invalid input", arguments: [0, 1, 15])
    func openRefusesBoxShorterThanTag(length: Int) throws {
        let vector = try Self.testCase16()
        let box = Array(vector.sealedBox.prefix(length))
        let error = #expect(throws: CryptoError.self) {
            try AESGCM.open(box, key: symmetricKey(vector.key), nonce: vector.iv, authenticating: vector.aad)
        }
        #expect(error?.isInvalidInput == true)
    }

    // MARK: Parameters

    @Test("a key that is not 256 bits is refused with invalidKeySize", arguments: [16, 24])
    func refusesShortKey(size: Int) throws {
        let key = try symmetricKey([UInt8](repeating: 0x11, count: size))
        #expect(throws: CryptoError.invalidKeySize(size)) {
            try AESGCM.seal([1, 2, 3], key: key, nonce: [UInt8](repeating: 0, count: 12), authenticating: [])
        }
        #expect(throws: CryptoError.invalidKeySize(size)) {
            try AESGCM.open([UInt8](repeating: 0, count: 19), key: key, nonce: [UInt8](repeating: 0, count: 12), authenticating: [])
        }
    }

    @Test("a nonce that is not 12 bytes is refused as invalid input", arguments: [0, 8, 11, 13, 16])
    func refusesWrongNonceLength(length: Int) throws {
        let key = try SymmetricKey.generate()
        let nonce = [UInt8](repeating: 0, count: length)
        let sealError = #expect(throws: CryptoError.self) {
            try AESGCM.seal([1, 2, 3], key: key, nonce: nonce, authenticating: [])
        }
        #expect(sealError?.isInvalidInput == true)
        let openError = #expect(throws: CryptoError.self) {
            try AESGCM.open([UInt8](repeating: 0, count: 19), key: key, nonce: nonce, authenticating: [])
        }
        #expect(openError?.isInvalidInput == true)
    }
}
