import Foundation
import LetheCrypto

/// The published SigV4 vectors in `Fixtures/`, one JSON file per source, each citing it.
enum Fixtures {
    struct Missing: Error, CustomStringConvertible {
        let name: String
        var description: String { "fixture \(name) is not in the test bundle's Fixtures folder" }
    }

    /// A file of signing vectors: the credentials, region, service and time they share.
    struct SigningFile: Decodable, Sendable {
        let source: String
        let accessKeyID: String
        let secretAccessKey: String
        let region: String
        let service: String
        let date: String
        let vectors: [SigningVector]
        let signingKey: SigningKeyVector?
    }

    /// One request and what signing it must produce.
    struct SigningVector: Decodable, Sendable, CustomStringConvertible {
        let name: String
        let method: String
        let path: String
        let query: [[String]]
        let headers: [[String]]
        let body: String
        /// The suite's `sign_body`: the signer adds `x-amz-content-sha256` itself.
        let signBody: Bool?
        let sessionToken: String?
        let canonicalRequest: String
        let stringToSign: String
        let signature: String
        let authorization: String?

        var description: String { name }
    }

    /// The signing-key derivation example.
    struct SigningKeyVector: Decodable, Sendable {
        let source: String
        let secretAccessKey: String
        let date: String
        let region: String
        let service: String
        let kSigning: String
    }

    static func signing(_ name: String) throws -> SigningFile {
        guard let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)?.appendingPathComponent(name),
              FileManager.default.fileExists(atPath: url.path)
        else { throw Missing(name: name) }
        return try JSONDecoder().decode(SigningFile.self, from: Data(contentsOf: url))
    }

    static var suite: SigningFile { get throws { try signing("aws-sigv4-test-suite.json") } }
    static var s3Examples: SigningFile { get throws { try signing("aws-s3-sigv4-examples.json") } }
}

/// Secret bytes for an API that takes `SecureBytes`.
func secure(_ text: String) -> SecureBytes {
    Array(text.utf8).withUnsafeBytes { SecureBytes(copying: $0) }
}

/// The tests' own lower-case hex, independent of `LetheCrypto.Hex`.
func testHex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}
