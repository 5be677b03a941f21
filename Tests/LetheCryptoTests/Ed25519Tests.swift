import LetheCrypto
import Testing

@Suite("Ed25519")
struct Ed25519Tests {
    static let rfc8032 = "rfc8032-ed25519.json"

    static func vector(_ name: String) throws -> Ed25519Vector {
        try #require(try Fixtures.vectors(rfc8032, as: Ed25519Vector.self).first { $0.name == name })
    }

    // MARK: RFC 8032 section 7.1

    @Test("the public key derived from the secret seed is the RFC 8032 public key",
          arguments: try Fixtures.vectors(rfc8032, as: Ed25519Vector.self))
    func publicKeyMatchesRFC8032(_ vector: Ed25519Vector) throws {
        let key = try Ed25519.PrivateKey(rawRepresentation: secure(vector.secretKey))
        #expect(try key.publicKey.rawRepresentation == vector.publicKey)
    }

    @Test("the signature is the RFC 8032 signature", arguments: try Fixtures.vectors(rfc8032, as: Ed25519Vector.self))
    func signatureMatchesRFC8032(_ vector: Ed25519Vector) throws {
        let key = try Ed25519.PrivateKey(rawRepresentation: secure(vector.secretKey))
        let signature = try key.signature(for: vector.message)
        #expect(signature.count == Ed25519.signatureByteCount)
        #expect(signature == vector.signature)
    }

    @Test("the RFC 8032 signature verifies under the RFC 8032 public key",
          arguments: try Fixtures.vectors(rfc8032, as: Ed25519Vector.self))
    func signatureVerifies(_ vector: Ed25519Vector) throws {
        let publicKey = try Ed25519.PublicKey(rawRepresentation: vector.publicKey)
        #expect(publicKey.isValidSignature(vector.signature, for: vector.message))
    }

    @Test("the RFC 8032 signature does not verify for a modified message",
          arguments: try Fixtures.vectors(rfc8032, as: Ed25519Vector.self))
    func modifiedMessageFails(_ vector: Ed25519Vector) throws {
        let publicKey = try Ed25519.PublicKey(rawRepresentation: vector.publicKey)
        let modified = vector.message.isEmpty ? [0] : flippingBit(0, ofByte: vector.message.count - 1, in: vector.message)
        #expect(!publicKey.isValidSignature(vector.signature, for: modified))
    }

    @Test("the RFC 8032 signature does not verify with one bit of it flipped",
          arguments: try Fixtures.vectors(rfc8032, as: Ed25519Vector.self))
    func modifiedSignatureFails(_ vector: Ed25519Vector) throws {
        let publicKey = try Ed25519.PublicKey(rawRepresentation: vector.publicKey)
        // One bit in R (the first half) and one in S (the second half).
        #expect(!publicKey.isValidSignature(flippingBit(1, ofByte: 0, in: vector.signature), for: vector.message))
        #expect(!publicKey.isValidSignature(flippingBit(1, ofByte: 40, in: vector.signature), for: vector.message))
    }

    @Test("the RFC 8032 signature does not verify under another vector's public key")
    func otherPublicKeyFails() throws {
        let test1 = try Self.vector("TEST 1")
        let test2 = try Self.vector("TEST 2")
        let publicKey = try Ed25519.PublicKey(rawRepresentation: test2.publicKey)
        #expect(!publicKey.isValidSignature(test1.signature, for: test1.message))
    }

    @Test("signing an empty buffer with no base address gives the RFC 8032 TEST 1 signature")
    func signsNilEmptyBuffer() throws {
        let test1 = try Self.vector("TEST 1")
        #expect(test1.message.isEmpty)
        let key = try Ed25519.PrivateKey(rawRepresentation: secure(test1.secretKey))
        let signature = try key.signature(for: UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(signature == test1.signature)
        let publicKey = try Ed25519.PublicKey(rawRepresentation: test1.publicKey)
        #expect(publicKey.isValidSignature(signature, for: UnsafeRawBufferPointer(start: nil, count: 0)))
    }

    // MARK: Keys

    @Test("rawRepresentation of a private key is the seed it was made from")
    func rawRepresentationRoundTrips() throws {
        let test3 = try Self.vector("TEST 3")
        let key = try Ed25519.PrivateKey(rawRepresentation: secure(test3.secretKey))
        #expect(contents(of: try key.rawRepresentation) == test3.secretKey)
    }

    @Test("a generated key signs messages its public key verifies")
    func generatedKeySignsAndVerifies() throws {
        let key = try Ed25519.PrivateKey()
        let message = Array("snapshot 2024-06-01".utf8)
        let signature = try key.signature(for: message)
        #expect(try key.publicKey.isValidSignature(signature, for: message))
    }

    @Test("two generated keys differ")
    func generatedKeysDiffer() throws {
        let a = try Ed25519.PrivateKey()
        let b = try Ed25519.PrivateKey()
        #expect(try a.publicKey != b.publicKey)
        #expect(contents(of: try a.rawRepresentation) != contents(of: try b.rawRepresentation))
    }

    @Test("a private key round-trips through its PEM form")
    func privatePEMRoundTrips() throws {
        let key = try Ed25519.PrivateKey()
        let pem = try key.pemRepresentation
        #expect(String(decoding: contents(of: pem), as: UTF8.self).hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        let reloaded = try Ed25519.PrivateKey(pemRepresentation: pem)
        #expect(contents(of: try reloaded.rawRepresentation) == contents(of: try key.rawRepresentation))
    }

    @Test("a public key round-trips through its PEM form")
    func publicPEMRoundTrips() throws {
        let publicKey = try Ed25519.PrivateKey().publicKey
        let pem = try publicKey.pemRepresentation
        #expect(pem.hasPrefix("-----BEGIN PUBLIC KEY-----\n"))
        #expect(try Ed25519.PublicKey(pemRepresentation: pem) == publicKey)
    }

    @Test("the DER form of a public key is the 12-byte Ed25519 SubjectPublicKeyInfo prefix and the raw key")
    func derRepresentationIsSubjectPublicKeyInfo() throws {
        let test1 = try Self.vector("TEST 1")
        let publicKey = try Ed25519.PublicKey(rawRepresentation: test1.publicKey)
        // RFC 8410 section 4: SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (0 unused bits) key }
        let prefix: [UInt8] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]
        #expect(try publicKey.derRepresentation == prefix + test1.publicKey)
    }

    @Test("the fingerprint is SHA256: and the hex SHA-256 of the DER public key")
    func fingerprintFormat() throws {
        let publicKey = try Ed25519.PrivateKey().publicKey
        let fingerprint = try publicKey.fingerprint
        #expect(fingerprint == "SHA256:" + TestHex.encode(try SHA256.hash(try publicKey.derRepresentation)))
    }

    @Test("a seed that is not 32 bytes is refused with invalidKeySize", arguments: [0, 31, 33, 64])
    func refusesWrongSeedSize(size: Int) {
        #expect(throws: CryptoError.invalidKeySize(size)) {
            try Ed25519.PrivateKey(rawRepresentation: secure([UInt8](repeating: 1, count: size)))
        }
    }

    @Test("a raw public key that is not 32 bytes is refused with invalidKeySize", arguments: [0, 31, 33])
    func refusesWrongPublicKeySize(size: Int) {
        #expect(throws: CryptoError.invalidKeySize(size)) {
            try Ed25519.PublicKey(rawRepresentation: [UInt8](repeating: 1, count: size))
        }
    }

    @Test("a signature that is not 64 bytes never verifies")
    func wrongLengthSignatureFails() throws {
        let test2 = try Self.vector("TEST 2")
        let publicKey = try Ed25519.PublicKey(rawRepresentation: test2.publicKey)
        #expect(!publicKey.isValidSignature(Array(test2.signature.dropLast()), for: test2.message))
        #expect(!publicKey.isValidSignature(test2.signature + [0], for: test2.message))
        #expect(!publicKey.isValidSignature([], for: test2.message))
    }

    @Test("a public key PEM is refused as a private key")
    func publicPEMIsNotAPrivateKey() throws {
        let pem = try Ed25519.PrivateKey().publicKey.pemRepresentation
        let error = #expect(throws: CryptoError.self) {
            try Ed25519.PrivateKey(pemRepresentation: secure(Array(pem.utf8)))
        }
        #expect(error?.isInvalidPEM == true)
    }

    @Test("a private key PEM is refused as a public key")
    func privatePEMIsNotAPublicKey() throws {
        let pem = String(decoding: contents(of: try Ed25519.PrivateKey().pemRepresentation), as: UTF8.self)
        let error = #expect(throws: CryptoError.self) {
            try Ed25519.PublicKey(pemRepresentation: pem)
        }
        #expect(error?.isInvalidPEM == true)
    }

    @Test("text that is not PEM is refused by both key types", arguments: [
        "", "hello, world", "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    ])
    func refusesGarbage(text: String) {
        let privateError = #expect(throws: CryptoError.self) {
            try Ed25519.PrivateKey(pemRepresentation: secure(Array(text.utf8)))
        }
        #expect(privateError?.isInvalidPEM == true)
        let publicError = #expect(throws: CryptoError.self) {
            try Ed25519.PublicKey(pemRepresentation: text)
        }
        #expect(publicError?.isInvalidPEM == true)
    }
}
