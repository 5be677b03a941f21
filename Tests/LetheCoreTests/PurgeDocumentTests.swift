import Foundation
@testable import LetheCore
import Testing

/// Purge documents of both formats read back byte for byte; a v2 document needs its rules
/// digest, and a v1 document has none (certificates issued before the digest keep verifying).
@Suite struct PurgeDocumentTests {
    func document(format: String, digest: String?) -> PurgeDocument {
        var document = PurgeDocument(
            request: "er-20261201-0a1b2c3d", tenant: "acme", subjectHash: String(repeating: "ab", count: 32), ledgerVersion: 1,
            rules: ["path (glob redacted)"], rulesDigest: digest, policy: PurgeDocument.defaultPolicy,
            registry: RegistryReference(version: 1, sha256: String(repeating: "cd", count: 32)))
        document.format = format
        return document
    }

    @Test func bothFormatsReadBackAndOnlyTheirOwnShapeIsKnown() throws {
        let cases: [(String, String?, Bool)] = [
            (PurgeDocument.formatName, String(repeating: "ef", count: 32), true),
            (PurgeDocument.formatWithoutDigest, nil, true),
            (PurgeDocument.formatName, nil, false),
            (PurgeDocument.formatWithoutDigest, String(repeating: "ef", count: 32), false),
        ]
        for (format, digest, known) in cases {
            let bytes = try document(format: format, digest: digest).canonicalBytes()
            #expect(String(decoding: bytes, as: UTF8.self).contains("rulesDigest") == (digest != nil))
            let read = try JSONDecoder().decode(PurgeDocument.self, from: Data(bytes))
            #expect(try read.canonicalBytes() == bytes)
            #expect(read.hasKnownFormat == known, "\(format) \(digest ?? "no digest")")
        }
    }
}
