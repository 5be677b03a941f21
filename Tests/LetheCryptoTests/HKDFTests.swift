import LetheCrypto
import Testing

@Suite("HKDF-SHA256")
struct HKDFTests {
    @Test("deriveKey gives the RFC 5869 OKM", arguments: try Fixtures.vectors("rfc5869-hkdf-sha256.json", as: HKDFVector.self))
    func okmMatchesRFC5869(_ vector: HKDFVector) throws {
        let okm = try HKDF.deriveKey(
            inputKeyMaterial: secure(vector.ikm), salt: vector.salt, info: vector.info, outputByteCount: vector.length)
        #expect(okm.count == vector.length)
        #expect(contents(of: okm) == vector.okm)
    }

    @Test("different info labels derive different keys")
    func infoSeparatesKeys() throws {
        let ikm = secure([UInt8](repeating: 7, count: 32))
        let a = try HKDF.deriveKey(inputKeyMaterial: ikm, salt: [], info: Array("lethe/a".utf8), outputByteCount: 32)
        let b = try HKDF.deriveKey(inputKeyMaterial: ikm, salt: [], info: Array("lethe/b".utf8), outputByteCount: 32)
        #expect(contents(of: a) != contents(of: b))
    }

    @Test("an output size of 0 is refused")
    func refusesZeroOutput() {
        let error = #expect(throws: CryptoError.self) {
            try HKDF.deriveKey(inputKeyMaterial: secure([1, 2, 3]), salt: [], info: [], outputByteCount: 0)
        }
        #expect(error?.isInvalidInput == true)
    }

    @Test("an output size above 255 × 32 = 8160 bytes is refused")
    func refusesOversizedOutput() {
        let error = #expect(throws: CryptoError.self) {
            try HKDF.deriveKey(inputKeyMaterial: secure([1, 2, 3]), salt: [], info: [], outputByteCount: 8161)
        }
        #expect(error?.isInvalidInput == true)
    }

    @Test("the largest output, 8160 bytes, is derived in full")
    func derivesLargestOutput() throws {
        let okm = try HKDF.deriveKey(inputKeyMaterial: secure([1, 2, 3]), salt: [], info: [], outputByteCount: 8160)
        #expect(okm.count == 8160)
        let shorter = try HKDF.deriveKey(inputKeyMaterial: secure([1, 2, 3]), salt: [], info: [], outputByteCount: 42)
        #expect(Array(contents(of: okm).prefix(42)) == contents(of: shorter))
    }
}
