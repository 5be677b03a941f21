import Foundation
import LetheCrypto
import LetheStore

/// The on-disk form of the keystore, `<keys>/keystore.json` (0600): the current KEK epoch and,
/// per tenant, its DEK wrapped under that epoch, with a MAC under a key derived from the
/// epoch's KEK.
///
/// The file has exactly one spelling. Reading validates every field and then requires the
/// stored bytes to equal the canonical encoding of what was read, so a hand edit, a duplicated
/// JSON key or an unknown field is refused rather than half-believed. The MAC input is a
/// sequence of length-prefixed fields after a domain-separation label, so no field's content
/// can imitate another field or another entry. Both are specified byte for byte in
/// docs/keys.md, for third parties to recompute.
package struct KeystoreFile: Equatable {
    static let formatName = "lethe-keystore-v2"
    /// Domain separation: the first field of the MAC input.
    static let macLabel = "lethe/v2/keystore-mac"
    /// An RFC 5649 wrapping of a 32-byte DEK: the 8-byte integrity check block plus the key.
    static let wrappedByteCount = 40

    package struct Entry: Equatable {
        /// `dek-` and 16 lower-case hex digits.
        let dekID: String
        /// RFC 5649 wrapping of the DEK, canonical base64 of `wrappedByteCount` bytes.
        let wrapped: String
        /// `DataEncryptionKey.commitment()`, 64 lower-case hex digits.
        let commitment: String
        /// When the DEK was created: ISO 8601 in UTC, as `Timestamp.format` (or
        /// `formatPrecise`) prints it.
        let created: String
    }

    package var epoch: KEKEpoch
    package var tenants: [TenantID: Entry]

    /// The formats a stored keystore can be in: v1 only until it is migrated.
    package enum Format: Equatable {
        case v1
        case v2
    }

    /// A keystore as read: its content, the MAC it states, and its format.
    package struct Stored {
        package let file: KeystoreFile
        package let mac: [UInt8]
        package let format: Format
    }

    /// The tenants in byte order of their ids, the order of the file and of the MAC input
    /// (`TenantID`'s order: its ids are ASCII, where String order is byte order).
    var sortedTenants: [(TenantID, Entry)] {
        tenants.sorted { $0.key < $1.key }
    }

    /// What the MAC covers: each field as a 4-byte big-endian length and its UTF-8 bytes, in
    /// this order: the label, the format name, the epoch and the tenant count in decimal, then
    /// per tenant (in byte order) its id, DEK id, wrapped key, commitment and creation time.
    package var authenticatedBytes: [UInt8] {
        var bytes: [UInt8] = []
        // Five fields an entry of about 170 bytes, each with its 4-byte length.
        bytes.reserveCapacity(256 + tenants.count * 192)
        func append(_ field: String) {
            var field = field
            field.withUTF8 { utf8 in
                withUnsafeBytes(of: UInt32(utf8.count).bigEndian) { bytes += $0 }
                bytes += utf8
            }
        }
        [Self.macLabel, Self.formatName, String(epoch.number), String(tenants.count)].forEach(append)
        for (tenant, entry) in sortedTenants {
            [tenant.rawValue, entry.dekID, entry.wrapped, entry.commitment, entry.created].forEach(append)
        }
        return bytes
    }

    /// The bytes that bind a wrapped DEK to its tenant, its id and its epoch.
    static func wrapContext(tenant: String, dekID: String, epoch: KEKEpoch) -> [UInt8] {
        Array("tenant=\(tenant)".utf8) + [0] + Array("dek=\(dekID)".utf8) + [0] + Array("epoch=\(epoch.number)".utf8)
    }

    /// The canonical file: JSON with keys in byte order, one tenant per line. No value needs
    /// escaping, since every field is validated to a character set without quotes, backslashes
    /// or control characters.
    package func encoded(mac: [UInt8]) -> [UInt8] {
        func string(_ value: String) -> String {
            precondition(value.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x22 && $0 != 0x5c }, "unvalidated keystore field")
            return "\"\(value)\""
        }
        let entries = sortedTenants.map { tenant, entry in
            "    \(string(tenant.rawValue)): {\"commitment\": \(string(entry.commitment)), \"created\": \(string(entry.created)), "
                + "\"dekID\": \(string(entry.dekID)), \"wrapped\": \(string(entry.wrapped))}"
        }
        let tenants = entries.isEmpty ? "{}" : "{\n" + entries.joined(separator: ",\n") + "\n  }"
        let text = "{\n  \"epoch\": \(epoch.number),\n  \"format\": \(string(Self.formatName)),\n"
            + "  \"mac\": \(string(Hex.encode(mac))),\n  \"tenants\": \(tenants)\n}\n"
        return Array(text.utf8)
    }

    // MARK: Reading

    private struct Document: Decodable {
        let format: String
        let epoch: Int
        let tenants: [String: DocumentEntry]
        let mac: String
    }

    private struct DocumentEntry: Decodable {
        let dekID: String
        let wrapped: String
        let commitment: String
        let created: String
    }

    /// Parses and validates a stored keystore, v2 or v1; the MAC is the caller's to verify.
    /// A v2 file must be byte for byte its canonical encoding. Any failure is
    /// `KeyError.keystoreDamaged` naming `path` and the field at fault.
    package static func decode(_ bytes: [UInt8], path: String) throws -> Stored {
        func damaged(_ reason: String) -> KeyError { .keystoreDamaged(path: path, reason: reason) }
        let document: Document
        // Read by the canonical reader, the file is its own canonical encoding by construction.
        var canonicalByConstruction = false
        if let canonical = canonicalDocument(bytes) {
            (document, canonicalByConstruction) = (canonical, true)
        } else {
            do {
                document = try JSONDecoder().decode(Document.self, from: Data(bytes))
            } catch {
                throw damaged("not a keystore document (not JSON, or a field is missing or of the wrong type)")
            }
        }
        let format: Format
        switch document.format {
        case formatName: format = .v2
        case LegacyKeystoreFormat.formatName: format = .v1
        default: throw damaged("unknown format \"\(printable(document.format))\"")
        }
        guard document.epoch >= 1 else { throw damaged("epoch \(document.epoch) is not 1 or more") }
        guard isLowerHex(document.mac, digits: 64), let mac = Hex.decode(document.mac) else {
            throw damaged("its MAC is not 64 lower-case hex digits")
        }
        var tenants: [TenantID: Entry] = [:]
        for (name, entry) in document.tenants {
            guard let tenant = try? TenantID(name) else { throw damaged("\"\(printable(name))\" is not a valid tenant id") }
            if let problem = problem(with: entry) { throw damaged("the entry of tenant \(tenant) has \(problem)") }
            tenants[tenant] = Entry(dekID: entry.dekID, wrapped: entry.wrapped, commitment: entry.commitment, created: entry.created)
        }
        let file = KeystoreFile(epoch: KEKEpoch(document.epoch), tenants: tenants)
        if format == .v2, !canonicalByConstruction, file.encoded(mac: mac) != bytes {
            throw damaged("it is not in canonical form (edited by hand, or a duplicated or unknown field)")
        }
        return Stored(file: file, mac: mac, format: format)
    }

    /// The document of a file in exactly the form `encoded(mac:)` writes, read without
    /// JSONDecoder, which took most of the time of a command opening one repository at 10,000
    /// tenants; nil for anything else (a v1 file, an edit), which JSONDecoder then reads and
    /// `decode` compares with its re-encoding. What this accepts is that encoding by
    /// construction: its layout, tenants in strictly ascending byte order, an epoch without
    /// leading zeros, strings without escapes; `decode` then validates every field, which the
    /// encoder writes verbatim.
    private static func canonicalDocument(_ bytes: [UInt8]) -> Document? {
        var reader = CanonicalReader(bytes: bytes)
        guard reader.take("{\n  \"epoch\": "), let epoch = reader.integer(),
              reader.take(",\n  \"format\": "), let format = reader.string(),
              reader.take(",\n  \"mac\": "), let mac = reader.string(),
              reader.take(",\n  \"tenants\": ") else { return nil }
        var tenants: [String: DocumentEntry] = [:]
        if !reader.take("{}") {
            guard reader.take("{\n") else { return nil }
            var previous: String?
            repeat {
                guard reader.take("    "), let name = reader.string(),
                      // String order is byte order for the ASCII of tenant ids (any other name is refused below).
                      previous.map({ $0 < name }) ?? true,
                      reader.take(": {\"commitment\": "), let commitment = reader.string(),
                      reader.take(", \"created\": "), let created = reader.string(),
                      reader.take(", \"dekID\": "), let dekID = reader.string(),
                      reader.take(", \"wrapped\": "), let wrapped = reader.string(), reader.take("}"),
                      tenants.updateValue(DocumentEntry(dekID: dekID, wrapped: wrapped, commitment: commitment, created: created), forKey: name) == nil
                else { return nil }
                previous = name
            } while reader.take(",\n")
            guard reader.take("\n  }") else { return nil }
        }
        guard reader.take("\n}\n"), reader.atEnd else { return nil }
        return Document(format: format, epoch: epoch, tenants: tenants, mac: mac)
    }

    /// Reads the canonical form token by token: literal text, a decimal integer, or a string
    /// with no escape in it (the canonical form has none).
    private struct CanonicalReader {
        let bytes: [UInt8]
        var position = 0

        var atEnd: Bool { position == bytes.count }

        mutating func take(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard bytes.count - position >= count else { return false }
            let matches = literal.withUTF8Buffer { expected in
                bytes.withUnsafeBufferPointer { memcmp($0.baseAddress! + position, expected.baseAddress!, count) == 0 }
            }
            if matches { position += count }
            return matches
        }

        /// Decimal digits, without a leading zero.
        mutating func integer() -> Int? {
            let start = position
            guard position < bytes.count, bytes[position] != 0x30 else { return nil }
            while position < bytes.count, position - start < 18, (0x30...0x39).contains(bytes[position]) { position += 1 }
            guard position > start else { return nil }
            return Int(String(decoding: bytes[start..<position], as: UTF8.self))
        }

        mutating func string() -> String? {
            guard position < bytes.count, bytes[position] == 0x22 else { return nil }
            let start = position + 1
            var end = start
            while end < bytes.count, bytes[end] != 0x22 {
                guard bytes[end] != 0x5c, bytes[end] >= 0x20 else { return nil }
                end += 1
            }
            guard end < bytes.count else { return nil }
            position = end + 1
            return String(decoding: bytes[start..<end], as: UTF8.self)
        }
    }

    /// What is wrong with a stored entry, or nil.
    private static func problem(with entry: DocumentEntry) -> String? {
        guard entry.dekID.hasPrefix("dek-"), isLowerHex(entry.dekID.dropFirst(4), digits: 16) else {
            return "a DEK id that is not dek- and 16 lower-case hex digits"
        }
        guard isCanonicalBase64OfWrappedKey(entry.wrapped) else {
            return "a wrapped key that is not the canonical base64 of \(wrappedByteCount) bytes"
        }
        guard isLowerHex(entry.commitment, digits: 64) else { return "a commitment that is not 64 lower-case hex digits" }
        guard Timestamp.isCanonical(entry.created) else {
            return "a creation time that is not an ISO 8601 timestamp (such as 2026-03-01T02:00:00Z)"
        }
        return nil
    }

    private static func isLowerHex(_ text: some StringProtocol, digits: Int) -> Bool {
        var count = 0
        for byte in text.utf8 {
            guard (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) else { return false }
            count += 1
        }
        return count == digits
    }

    /// Whether `text` is the one base64 spelling of `wrappedByteCount` (40) bytes, checked by
    /// shape rather than decoded and encoded again (10,000 times at each open): 13 groups of
    /// four characters for 39 bytes, then two characters for the last byte, whose second
    /// carries only 2 of its 6 bits (the other 4 zero), then `==`.
    static func isCanonicalBase64OfWrappedKey(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 56, bytes[54] == 0x3d, bytes[55] == 0x3d else { return false }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x41...0x5a: return c - 0x41
            case 0x61...0x7a: return c - 0x61 + 26
            case 0x30...0x39: return c - 0x30 + 52
            case 0x2b: return 62
            case 0x2f: return 63
            default: return nil
            }
        }
        for c in bytes[0..<53] where value(c) == nil { return false }
        guard let last = value(bytes[53]) else { return false }
        return last & 0x0f == 0
    }

    /// `text` cut short and stripped of control characters, for an error message.
    private static func printable(_ text: String) -> String {
        String(text.unicodeScalars.prefix(64).map { $0.properties.generalCategory == .control ? "?" : Character($0) })
    }
}
