import Foundation
import LetheCrypto
import LetheStore

/// The on-disk form of the keystore, `<keys>/keystore.json` (0600): the current KEK epoch and,
/// per tenant, its DEK wrapped under that epoch. A MAC under a key derived from the epoch's KEK
/// covers the whole file, so that an entry removed, added or altered by hand is detected
/// rather than silently believed. See docs/keys.md.
struct KeystoreFile: Codable, Equatable {
    static let formatName = "lethe-keystore-v1"

    struct Entry: Codable, Equatable {
        var dekID: String
        /// RFC 5649 wrapping of the DEK, base64.
        var wrapped: String
        /// `DataEncryptionKey.commitment()`, hex.
        var commitment: String
        var created: String
    }

    var format: String
    var epoch: KEKEpoch
    var tenants: [String: Entry]
    /// HMAC-SHA256 of `authenticatedBytes`, hex.
    var mac: String

    /// What the MAC covers: every field but the MAC, in a fixed order.
    var authenticatedBytes: [UInt8] {
        var text = "\(format)\nepoch \(epoch.number)\n"
        for tenant in tenants.keys.sorted() {
            let entry = tenants[tenant]!
            text += "\(tenant) \(entry.dekID) \(entry.wrapped) \(entry.commitment) \(entry.created)\n"
        }
        return Array(text.utf8)
    }

    /// The bytes that bind a wrapped DEK to its tenant, its id and its epoch.
    static func wrapContext(tenant: String, dekID: String, epoch: KEKEpoch) -> [UInt8] {
        Array("tenant=\(tenant)".utf8) + [0] + Array("dek=\(dekID)".utf8) + [0] + Array("epoch=\(epoch.number)".utf8)
    }

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [0x0a]
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> KeystoreFile {
        let file: KeystoreFile
        do {
            file = try JSONDecoder().decode(KeystoreFile.self, from: Data(bytes))
        } catch {
            throw KeyError.keystoreDamaged(path: path, reason: "not a keystore document")
        }
        guard file.format == formatName else {
            throw KeyError.keystoreDamaged(path: path, reason: "unknown format \"\(file.format)\"")
        }
        return file
    }
}
