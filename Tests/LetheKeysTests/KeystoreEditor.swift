import Foundation
import LetheCrypto
@testable import LetheKeys
import LetheStore
import Testing

/// Hand edits of `keystore.json`, as an attacker with write access or a careless operator
/// would make them, and the checks that such an edit was refused without changing anything.
struct KeystoreEditor {
    let keys: String
    var path: String { "\(keys)/keystore.json" }
    var provider: FileKEKProvider { FileKEKProvider(directory: "\(keys)/kek") }

    func bytes() throws -> [UInt8] { try FileSystem.readFile(path) }
    func text() throws -> String { String(decoding: try bytes(), as: UTF8.self) }
    func write(_ bytes: [UInt8]) throws { try FileSystem.writeAtomically(bytes, to: path, mode: 0o600) }
    func write(_ text: String) throws { try write(Array(text.utf8)) }

    /// The file as a JSON object, as any JSON tool would see it.
    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes())) as? [String: Any])
    }

    /// One tenant's entry, as strings.
    func entry(_ tenant: String) throws -> [String: String] {
        try #require((try json()["tenants"] as? [String: [String: String]])?[tenant])
    }

    /// Replaces the one occurrence of `old` in the file's text with `new`; the rest of the file
    /// keeps its canonical spelling.
    func replace(_ old: String, with new: String) throws {
        let text = try text()
        #expect(text.components(separatedBy: old).count == 2, "\(old) occurs once")
        try write(text.replacingOccurrences(of: old, with: new))
    }

    /// The line of the canonical file that holds `tenant`'s entry.
    func line(of tenant: String) throws -> String {
        try #require(try text().split(separator: "\n").first { $0.hasPrefix("    \"\(tenant)\": {") }.map(String.init))
    }

    /// As `replace`, within `tenant`'s entry only.
    func replace(inEntryOf tenant: String, _ old: String, with new: String) throws {
        let line = try line(of: tenant)
        #expect(line.components(separatedBy: old).count == 2, "\(old) occurs once in the entry of \(tenant)")
        try replace(line, with: line.replacingOccurrences(of: old, with: new))
    }

    /// Decodes the file, applies `edit`, and writes it back in canonical form, either with the
    /// stored (now stale) MAC or, as someone holding the KEK could, a recomputed one.
    func edit(reauthenticate: Bool = false, _ edit: (inout KeystoreFile) -> Void) throws {
        let stored = try KeystoreFile.decode(try bytes(), path: path)
        var file = stored.file
        edit(&file)
        let mac = reauthenticate ? try provider.authenticate(file.authenticatedBytes, epoch: file.epoch) : stored.mac
        try write(file.encoded(mac: mac))
    }

    /// The keystore and every KEK file, byte for byte.
    func snapshot() throws -> [String: [UInt8]] {
        var files = ["keystore.json": try bytes()]
        for name in try FileSystem.listDirectory("\(keys)/kek") {
            files["kek/\(name)"] = try FileSystem.readFile("\(keys)/kek/\(name)")
        }
        return files
    }

    /// `body` fails with `KeyError.keystoreDamaged` naming this keystore.
    func expectDamaged(_ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("\(what): accepted", sourceLocation: sourceLocation)
        } catch KeyError.keystoreDamaged(let damagedPath, _) {
            #expect(damagedPath == path, sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(what): \(error), not keystoreDamaged", sourceLocation: sourceLocation)
        }
    }

    /// The damaged keystore is refused when opened, by a keystore opened before the damage, and
    /// by both ratchets, which change nothing: KEK files and keystore bytes stay as they were.
    func expectRefusedEverywhere(_ what: String, opened keystore: Keystore, tenant: TenantID,
                                 sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try snapshot()
        expectDamaged("\(what), opening", sourceLocation: sourceLocation) { _ = try Keystore(directory: keys, provider: provider) }
        expectDamaged("\(what), unwrapping", sourceLocation: sourceLocation) { _ = try keystore.unwrapKey(for: tenant) }
        expectDamaged("\(what), rotating", sourceLocation: sourceLocation) { try keystore.rotate() }
        expectDamaged("\(what), revoking", sourceLocation: sourceLocation) { try keystore.revoke(tenant) }
        #expect(try snapshot() == before, "\(what): a refused ratchet changed nothing", sourceLocation: sourceLocation)
    }
}
