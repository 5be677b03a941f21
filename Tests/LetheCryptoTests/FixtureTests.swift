import Foundation
import Testing

@Suite("Test vector fixtures")
struct FixtureTests {
    static let expectedFiles = [
        "fips180-sha256.json", "rfc4231-hmac-sha256.json", "rfc5869-hkdf-sha256.json", "nist-gcm-aes256.json",
        "nist-cavp-gcm-aes256.json", "rfc5649-keywrap.json", "rfc8032-ed25519.json",
    ]

    @Test("every fixture is bundled, cites its source and holds vectors", arguments: expectedFiles)
    func fixtureCitesSource(name: String) throws {
        let url = try Fixtures.folder.appendingPathComponent(name)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        let fixture = try #require(object as? [String: Any])
        let source = try #require(fixture["source"] as? String)
        #expect(source.count > 20)
        let vectors = try #require(fixture["vectors"] as? [[String: Any]])
        #expect(!vectors.isEmpty)
        #expect(vectors.allSatisfy { ($0["name"] as? String)?.isEmpty == false })
    }
}
