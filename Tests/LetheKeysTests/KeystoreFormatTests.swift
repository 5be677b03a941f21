import Foundation
import LetheCrypto
@testable import LetheKeys
import LetheStore
import Testing

/// The keystore's bytes and MAC are exactly what docs/keys.md specifies, recomputed here from
/// that description alone, so a third party can check a keystore without Lethe.
@Suite struct KeystoreFormatTests {
    let directory = TestDirectory()
    var keys: String { "\(directory.path)/keys" }
    var editor: KeystoreEditor { KeystoreEditor(keys: keys) }

    func tenant(_ name: String) -> TenantID { try! TenantID(name) }

    func populated() throws {
        let keystore = try Keystore.create(directory: keys, provider: editor.provider)
        for name in ["globex", "acme", "a.b"] { try keystore.createKey(for: tenant(name)) }
    }

    /// `u32be(len) ‖ utf8` per field.
    func field(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        let n = UInt32(bytes.count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + bytes
    }

    @Test func macIsTheDocumentedHMACOverLengthPrefixedFields() throws {
        try populated()
        let json = try editor.json()
        let tenants = try #require(json["tenants"] as? [String: [String: String]])
        var input = field("lethe/v2/keystore-mac") + field("lethe-keystore-v2") + field("1") + field(String(tenants.count))
        for name in tenants.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let e = tenants[name]!
            for value in [name, e["dekID"]!, e["wrapped"]!, e["commitment"]!, e["created"]!] { input += field(value) }
        }
        var kek = try FileSystem.readFile("\(keys)/kek/epoch-000001.kek")
        let macKey = try HKDF.deriveKey(
            inputKeyMaterial: SecureBytes(wiping: &kek), salt: [], info: Array("lethe/v1/keystore-mac".utf8), outputByteCount: 32)
        #expect(Hex.encode(try HMACSHA256(key: macKey).authenticationCode(for: input)) == json["mac"] as? String)
    }

    @Test func fileIsTheDocumentedCanonicalText() throws {
        try populated()
        let json = try editor.json()
        let tenants = try #require(json["tenants"] as? [String: [String: String]])
        let lines = tenants.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).map { name in
            let e = tenants[name]!
            return "    \"\(name)\": {\"commitment\": \"\(e["commitment"]!)\", \"created\": \"\(e["created"]!)\", "
                + "\"dekID\": \"\(e["dekID"]!)\", \"wrapped\": \"\(e["wrapped"]!)\"}"
        }
        let expected = "{\n  \"epoch\": 1,\n  \"format\": \"lethe-keystore-v2\",\n  \"mac\": \"\(json["mac"] as! String)\",\n"
            + "  \"tenants\": {\n" + lines.joined(separator: ",\n") + "\n  }\n}\n"
        #expect(try editor.text() == expected)
        #expect(try editor.line(of: "a.b").hasSuffix(","), "a.b sorts first, by bytes")
    }

    @Test func emptyKeystoreIsTheDocumentedCanonicalText() throws {
        _ = try Keystore.create(directory: keys, provider: editor.provider)
        let mac = try #require(try editor.json()["mac"] as? String)
        #expect(try editor.text() == "{\n  \"epoch\": 1,\n  \"format\": \"lethe-keystore-v2\",\n  \"mac\": \"\(mac)\",\n  \"tenants\": {}\n}\n")
    }

    /// The ambiguity fixed: the v1 MAC input of the moved-entry edit equals the original's,
    /// the v2 one does not.
    @Test func movingAnEntryIntoAnotherFieldChangesTheV2MACInputButNotTheV1One() throws {
        let acme = KeystoreFile.Entry(
            dekID: "dek-0123456789abcdef", wrapped: Data(count: 40).base64EncodedString(),
            commitment: String(repeating: "a", count: 64), created: "2026-01-01T00:00:00Z")
        let globex = KeystoreFile.Entry(
            dekID: "dek-fedcba9876543210", wrapped: Data(repeating: 1, count: 40).base64EncodedString(),
            commitment: String(repeating: "b", count: 64), created: "2026-01-02T00:00:00Z")
        let original = KeystoreFile(epoch: KEKEpoch(3), tenants: [tenant("acme"): acme, tenant("globex"): globex])
        let line = "globex \(globex.dekID) \(globex.wrapped) \(globex.commitment) \(globex.created)"
        let moved = KeystoreFile(epoch: KEKEpoch(3), tenants: [tenant("acme"): KeystoreFile.Entry(
            dekID: acme.dekID, wrapped: acme.wrapped, commitment: acme.commitment, created: acme.created + "\n" + line)])
        #expect(LegacyKeystoreFormat.authenticatedBytes(moved) == LegacyKeystoreFormat.authenticatedBytes(original))
        #expect(moved.authenticatedBytes != original.authenticatedBytes)
    }
}

/// The reader that takes the canonical text without JSONDecoder accepts that text only: every
/// near miss either reads the same through JSONDecoder or is refused as not canonical.
@Suite struct KeystoreCanonicalReaderTests {
    static let entry = #"{"commitment": "\#(String(repeating: "ab", count: 32))", "created": "2026-12-01T10:00:00.000Z", "#
        + #""dekID": "dek-0123456789abcdef", "wrapped": "\#(Data(repeating: 7, count: 40).base64EncodedString())"}"#

    func text(epoch: String = "1", names: [String] = ["acme", "globex"]) -> [UInt8] {
        let lines = names.map { "    \"\($0)\": \(Self.entry)" }
        return Array(("{\n  \"epoch\": \(epoch),\n  \"format\": \"lethe-keystore-v2\",\n  \"mac\": \"\(String(repeating: "cd", count: 32))\",\n"
            + "  \"tenants\": {\n" + lines.joined(separator: ",\n") + "\n  }\n}\n").utf8)
    }

    func refusedAsNotCanonical(_ bytes: [UInt8]) -> Bool {
        do {
            _ = try KeystoreFile.decode(Array(bytes), path: "k")
            return false
        } catch let error as KeyError {
            return "\(error)".contains("not in canonical form")
        } catch {
            return false
        }
    }

    @Test func theCanonicalTextReadsAsItsOwnEncoding() throws {
        let bytes = text()
        let stored = try KeystoreFile.decode(bytes, path: "k")
        #expect(stored.file.tenants.count == 2)
        #expect(stored.file.encoded(mac: stored.mac) == bytes)
    }

    /// The canonical reader makes the MAC input as it reads, in file order; it must be the
    /// rule's input (`authenticatedBytes`, sorted by tenant), byte for byte, and the JSONDecoder
    /// path's too.
    @Test func theMACInputMadeWhileReadingIsTheRulesInput() throws {
        let bytes = text(names: ["a.b", "acme", "b", "globex", "t10", "t9"])
        let canonical = try KeystoreFile.decode(bytes, path: "k")
        #expect(canonical.file.tenants.count == 6)
        #expect(canonical.authenticatedBytes == canonical.file.authenticatedBytes)
        let spaced = Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\"epoch\": 1", with: "\"epoch\":1").utf8)
        #expect(refusedAsNotCanonical(spaced), "read by JSONDecoder, and refused for its spelling")
        let emptyText = "{\n  \"epoch\": 1,\n  \"format\": \"lethe-keystore-v2\",\n  \"mac\": \"\(String(repeating: "cd", count: 32))\",\n  \"tenants\": {}\n}\n"
        let empty = try KeystoreFile.decode(Array(emptyText.utf8), path: "k")
        #expect(empty.file.tenants.isEmpty && empty.authenticatedBytes == empty.file.authenticatedBytes)
    }

    @Test func tenantsOutOfOrderADuplicateOrALeadingZeroAreNotCanonical() {
        #expect(refusedAsNotCanonical(text(names: ["globex", "acme"])))
        // Not even JSON (a number with a leading zero), which JSONDecoder refuses.
        #expect(throws: KeyError.self) { try KeystoreFile.decode(text(epoch: "01"), path: "k") }
        // A duplicated tenant: JSONDecoder keeps one of the two, and the re-encoding differs.
        #expect(refusedAsNotCanonical(text(names: ["acme", "acme"])))
        // Extra whitespace, or an escape that decodes to the same string.
        #expect(refusedAsNotCanonical(Array(String(decoding: text(), as: UTF8.self).replacingOccurrences(of: "\"epoch\": 1", with: "\"epoch\":  1").utf8)))
        #expect(refusedAsNotCanonical(Array(String(decoding: text(), as: UTF8.self).replacingOccurrences(of: "\"acme\"", with: "\"\\u0061cme\"").utf8)))
    }
}
