import Foundation
import Testing

/// The published test vectors in `Vectors/`, one JSON file per source document.
///
/// Every file has the shape `{"source": "...", "vectors": [...]}`; byte strings are lower-case
/// hex. Hex is decoded here, by the tests' own decoder, so that a bug in `LetheCrypto.Hex`
/// cannot make a vector pass.
enum Fixtures {
    struct File<Vector: Decodable & Sendable>: Decodable, Sendable {
        let source: String
        let vectors: [Vector]
    }

    struct Missing: Error, CustomStringConvertible {
        let name: String
        var description: String { "test vector file \(name) is not in the test bundle's Vectors folder" }
    }

    /// The `Vectors` folder copied into the test bundle.
    static var folder: URL {
        get throws {
            guard let url = Bundle.module.url(forResource: "Vectors", withExtension: nil) else {
                throw Missing(name: "Vectors")
            }
            return url
        }
    }

    static func load<Vector: Decodable & Sendable>(_ name: String, as _: Vector.Type = Vector.self) throws -> File<Vector> {
        let url = try folder.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else { throw Missing(name: name) }
        return try JSONDecoder().decode(File<Vector>.self, from: Data(contentsOf: url))
    }

    static func vectors<Vector: Decodable & Sendable>(_ name: String, as type: Vector.Type = Vector.self) throws -> [Vector] {
        try load(name, as: type).vectors
    }
}

// MARK: - Vector types

/// FIPS 180-2 Appendix B: an ASCII message (or a character repeated `count` times) and its digest.
struct SHA256Vector: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let message: [UInt8]
    let digest: [UInt8]

    var testDescription: String { name }

    private struct Repeated: Decodable { let character: String; let count: Int }
    private enum CodingKeys: String, CodingKey { case name, message, repeated, digest }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        digest = try c.hex(.digest)
        if let text = try c.decodeIfPresent(String.self, forKey: .message) {
            message = Array(text.utf8)
        } else {
            let repeated = try c.decode(Repeated.self, forKey: .repeated)
            message = [UInt8](repeating: Array(repeated.character.utf8)[0], count: repeated.count)
        }
    }
}

/// RFC 4231: key, data and HMAC-SHA-256 (or, for Test Case 5, its first `truncatedToBytes` bytes).
struct HMACVector: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let key: [UInt8]
    let data: [UInt8]
    let mac: [UInt8]
    let truncatedToBytes: Int?

    var testDescription: String { name }

    private enum CodingKeys: String, CodingKey { case name, key, data, mac, truncatedToBytes }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        key = try c.hex(.key)
        data = try c.hex(.data)
        mac = try c.hex(.mac)
        truncatedToBytes = try c.decodeIfPresent(Int.self, forKey: .truncatedToBytes)
    }
}

/// RFC 5869 Appendix A.
struct HKDFVector: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let ikm: [UInt8]
    let salt: [UInt8]
    let info: [UInt8]
    let length: Int
    let okm: [UInt8]

    var testDescription: String { name }

    private enum CodingKeys: String, CodingKey { case name, ikm, salt, info, length, okm }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        ikm = try c.hex(.ikm)
        salt = try c.hex(.salt)
        info = try c.hex(.info)
        length = try c.decode(Int.self, forKey: .length)
        okm = try c.hex(.okm)
    }
}

/// AES-256-GCM with a 96-bit IV and a 128-bit tag. A vector whose `result` is "fail" (a CAVP
/// FAIL entry) has no plaintext: its tag must not verify.
struct GCMVector: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let key: [UInt8]
    let iv: [UInt8]
    let aad: [UInt8]
    let plaintext: [UInt8]?
    let ciphertext: [UInt8]
    let tag: [UInt8]
    let passes: Bool

    var testDescription: String { name }
    /// What `AESGCM.seal` returns and `AESGCM.open` takes.
    var sealedBox: [UInt8] { ciphertext + tag }

    private enum CodingKeys: String, CodingKey { case name, key, iv, aad, plaintext, ciphertext, tag, result }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        key = try c.hex(.key)
        iv = try c.hex(.iv)
        aad = try c.hex(.aad)
        plaintext = try c.hexIfPresent(.plaintext)
        ciphertext = try c.hex(.ciphertext)
        tag = try c.hex(.tag)
        passes = try c.decodeIfPresent(String.self, forKey: .result).map { $0 == "pass" } ?? true
        if passes && plaintext == nil {
            throw DecodingError.dataCorruptedError(
                forKey: .plaintext, in: c, debugDescription: "a passing GCM vector needs a plaintext")
        }
    }
}

/// RFC 5649 section 6.
struct KeyWrapVector: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let kek: [UInt8]
    let key: [UInt8]
    let wrapped: [UInt8]

    var testDescription: String { name }

    private enum CodingKeys: String, CodingKey { case name, kek, key, wrapped }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        kek = try c.hex(.kek)
        key = try c.hex(.key)
        wrapped = try c.hex(.wrapped)
    }
}

/// RFC 8032 section 7.1.
struct Ed25519Vector: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let secretKey: [UInt8]
    let publicKey: [UInt8]
    let message: [UInt8]
    let signature: [UInt8]

    var testDescription: String { name }

    private enum CodingKeys: String, CodingKey { case name, secretKey, publicKey, message, signature }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        secretKey = try c.hex(.secretKey)
        publicKey = try c.hex(.publicKey)
        message = try c.hex(.message)
        signature = try c.hex(.signature)
    }
}

extension KeyedDecodingContainer {
    func hex(_ key: Key) throws -> [UInt8] {
        let text = try decode(String.self, forKey: key)
        guard let bytes = TestHex.decode(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not hex: \(text)")
        }
        return bytes
    }

    func hexIfPresent(_ key: Key) throws -> [UInt8]? {
        try contains(key) ? hex(key) : nil
    }
}
