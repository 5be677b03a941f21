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

    /// One tenant's stored key. Its fields are kept as the UTF-8 bytes they are stored as,
    /// in one buffer (a keystore read from disk shares the file's): reading 10,000 entries
    /// makes no string of any of them, an entry is copied with one reference, and the MAC
    /// input is made of these bytes as they are.
    package struct Entry: Equatable {
        private let storage: ArraySlice<UInt8>
        /// Where each field lies in `storage` (indices of its base).
        private let ranges: (dekID: Range<Int>, wrapped: Range<Int>, commitment: Range<Int>, created: Range<Int>)

        init(dekID: String, wrapped: String, commitment: String, created: String) {
            let fields = [dekID, wrapped, commitment, created].map { Array($0.utf8) }
            var bounds: [Range<Int>] = []
            for field in fields { bounds.append((bounds.last?.upperBound ?? 0) ..< (bounds.last?.upperBound ?? 0) + field.count) }
            self.init(storage: Array(fields.joined())[...], dekID: bounds[0], wrapped: bounds[1], commitment: bounds[2], created: bounds[3])
        }

        /// Fields that lie in `storage` at these indices.
        init(storage: ArraySlice<UInt8>, dekID: Range<Int>, wrapped: Range<Int>, commitment: Range<Int>, created: Range<Int>) {
            // Indices are the slice's own (a slice keeps its parent's), not offsets from 0.
            precondition([dekID, wrapped, commitment, created].allSatisfy { $0.lowerBound >= storage.startIndex && $0.upperBound <= storage.endIndex },
                         "keystore entry fields outside their storage")
            self.storage = storage
            ranges = (dekID, wrapped, commitment, created)
        }

        /// `dek-` and 16 lower-case hex digits.
        var dekIDBytes: ArraySlice<UInt8> { storage[ranges.dekID] }
        /// RFC 5649 wrapping of the DEK, canonical base64 of `wrappedByteCount` bytes.
        var wrappedBytes: ArraySlice<UInt8> { storage[ranges.wrapped] }
        /// `DataEncryptionKey.commitment()`, 64 lower-case hex digits.
        var commitmentBytes: ArraySlice<UInt8> { storage[ranges.commitment] }
        /// When the DEK was created: ISO 8601 in UTC, as `Timestamp.format` (or
        /// `formatPrecise`) prints it.
        var createdBytes: ArraySlice<UInt8> { storage[ranges.created] }

        var dekID: String { String(decoding: dekIDBytes, as: UTF8.self) }
        var wrapped: String { String(decoding: wrappedBytes, as: UTF8.self) }
        var commitment: String { String(decoding: commitmentBytes, as: UTF8.self) }
        var created: String { String(decoding: createdBytes, as: UTF8.self) }

        package static func == (a: Entry, b: Entry) -> Bool {
            a.dekIDBytes == b.dekIDBytes && a.wrappedBytes == b.wrappedBytes
                && a.commitmentBytes == b.commitmentBytes && a.createdBytes == b.createdBytes
        }
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
        /// `file.authenticatedBytes` (the v2 rule), made while reading: a canonical file holds
        /// its entries in the MAC input's order, so its fields are appended as they are met,
        /// without sorting 10,000 tenants again.
        package let authenticatedBytes: [UInt8]
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
        var entries: [UInt8] = []
        // Five fields an entry of about 170 bytes, each with its 4-byte length.
        entries.reserveCapacity(tenants.count * 192)
        for (tenant, entry) in sortedTenants { Self.appendMACInput(of: Array(tenant.rawValue.utf8)[...], entry, to: &entries) }
        return macInputHeader(tenantCount: tenants.count) + entries
    }

    /// The MAC input's fields before the entries.
    private func macInputHeader(tenantCount: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for field in [Self.macLabel, Self.formatName, String(epoch.number), String(tenantCount)] {
            Self.appendField(ArraySlice(field.utf8), to: &bytes)
        }
        return bytes
    }

    /// One entry's part of the MAC input: its tenant id and its four fields.
    private static func appendMACInput(of tenant: ArraySlice<UInt8>, _ entry: Entry, to bytes: inout [UInt8]) {
        appendField(tenant, to: &bytes)
        appendField(entry.dekIDBytes, to: &bytes)
        appendField(entry.wrappedBytes, to: &bytes)
        appendField(entry.commitmentBytes, to: &bytes)
        appendField(entry.createdBytes, to: &bytes)
    }

    private static func appendField(_ field: ArraySlice<UInt8>, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: UInt32(field.count).bigEndian) { bytes.append(contentsOf: $0) }
        field.withUnsafeBufferPointer { bytes.append(contentsOf: $0) }
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

    /// What either reader found: its entries validated, the other fields not yet.
    private struct Found {
        let format: String
        let epoch: Int
        let mac: String
        let tenants: [TenantID: Entry]
        /// The entries' part of the MAC input, when the reader met them in its order.
        var entriesMACInput: [UInt8]? = nil
    }

    /// Parses and validates a stored keystore, v2 or v1; the MAC is the caller's to verify.
    /// A v2 file must be byte for byte its canonical encoding. Any failure is
    /// `KeyError.keystoreDamaged` naming `path` and the field at fault.
    package static func decode(_ bytes: [UInt8], path: String) throws -> Stored {
        func damaged(_ reason: String) -> KeyError { .keystoreDamaged(path: path, reason: reason) }
        let found: Found
        // Read by the canonical reader, the file is its own canonical encoding by construction.
        var canonicalByConstruction = false
        if let canonical = try canonicalDocument(bytes, path: path) {
            (found, canonicalByConstruction) = (canonical, true)
        } else {
            let document: Document
            do {
                document = try JSONDecoder().decode(Document.self, from: Data(bytes))
            } catch {
                throw damaged("not a keystore document (not JSON, or a field is missing or of the wrong type)")
            }
            var tenants: [TenantID: Entry] = [:]
            for (name, entry) in document.tenants {
                let (tenant, entry) = try validated(
                    name, Entry(dekID: entry.dekID, wrapped: entry.wrapped, commitment: entry.commitment, created: entry.created),
                    path: path)
                tenants[tenant] = entry
            }
            found = Found(format: document.format, epoch: document.epoch, mac: document.mac, tenants: tenants)
        }
        let format: Format
        switch found.format {
        case formatName: format = .v2
        case LegacyKeystoreFormat.formatName: format = .v1
        default: throw damaged("unknown format \"\(printable(found.format))\"")
        }
        guard found.epoch >= 1 else { throw damaged("epoch \(found.epoch) is not 1 or more") }
        guard isLowerHex(found.mac.utf8, digits: 64), let mac = Hex.decode(found.mac) else {
            throw damaged("its MAC is not 64 lower-case hex digits")
        }
        let file = KeystoreFile(epoch: KEKEpoch(found.epoch), tenants: found.tenants)
        if format == .v2, !canonicalByConstruction, file.encoded(mac: mac) != bytes {
            throw damaged("it is not in canonical form (edited by hand, or a duplicated or unknown field)")
        }
        let authenticated = found.entriesMACInput.map { file.macInputHeader(tenantCount: file.tenants.count) + $0 }
            ?? file.authenticatedBytes
        return Stored(file: file, mac: mac, format: format, authenticatedBytes: authenticated)
    }

    /// The tenant `name` names, and its entry, if both are valid.
    private static func validated(_ name: String, _ entry: Entry, path: String) throws -> (TenantID, Entry) {
        guard let tenant = try? TenantID(name) else {
            throw KeyError.keystoreDamaged(path: path, reason: "\"\(printable(name))\" is not a valid tenant id")
        }
        if let problem = problem(with: entry) {
            throw KeyError.keystoreDamaged(path: path, reason: "the entry of tenant \(tenant) has \(problem)")
        }
        return (tenant, entry)
    }

    /// The document of a file in exactly the form `encoded(mac:)` writes, read without
    /// JSONDecoder, which took most of the time of a command opening one repository at 10,000
    /// tenants; nil for anything else (a v1 file, an edit), which JSONDecoder then reads and
    /// `decode` compares with its re-encoding. What this accepts is that encoding by
    /// construction: its layout, tenants in strictly ascending byte order, an epoch without
    /// leading zeros, strings without escapes; every entry is validated as it is met (and
    /// refused, naming the field), and `decode` validates the rest, all of which the encoder
    /// writes verbatim. Entries keep slices of `bytes`, not strings of their own.
    private static func canonicalDocument(_ bytes: [UInt8], path: String) throws -> Found? {
        var reader = CanonicalReader(bytes: bytes)
        guard reader.take("{\n  \"epoch\": "), let epoch = reader.integer(),
              reader.take(",\n  \"format\": "), let format = reader.string(),
              reader.take(",\n  \"mac\": "), let mac = reader.string(),
              reader.take(",\n  \"tenants\": ") else { return nil }
        var tenants: [TenantID: Entry] = [:]
        var macInput: [UInt8] = []
        if !reader.take("{}") {
            // An entry is a line of about 200 bytes, its MAC input a little less.
            tenants.reserveCapacity(bytes.count / 200)
            macInput.reserveCapacity(bytes.count)
            guard reader.take("{\n") else { return nil }
            var previous: ArraySlice<UInt8>?
            repeat {
                guard reader.take("    "), let name = reader.string(),
                      // Strictly ascending bytes: no tenant twice, and the order of the encoding.
                      previous.map({ $0.lexicographicallyPrecedes(name) }) ?? true,
                      reader.take(": {\"commitment\": "), let commitment = reader.string(),
                      reader.take(", \"created\": "), let created = reader.string(),
                      reader.take(", \"dekID\": "), let dekID = reader.string(),
                      reader.take(", \"wrapped\": "), let wrapped = reader.string(), reader.take("}")
                else { return nil }
                let entry = Entry(
                    storage: bytes[commitment.startIndex..<wrapped.endIndex], dekID: dekID.indices, wrapped: wrapped.indices,
                    commitment: commitment.indices, created: created.indices)
                let (tenant, valid) = try validated(String(decoding: name, as: UTF8.self), entry, path: path)
                tenants[tenant] = valid
                appendMACInput(of: name, valid, to: &macInput)
                previous = name
            } while reader.take(",\n")
            guard reader.take("\n  }") else { return nil }
        }
        guard reader.take("\n}\n"), reader.atEnd else { return nil }
        return Found(
            format: String(decoding: format, as: UTF8.self), epoch: epoch, mac: String(decoding: mac, as: UTF8.self),
            tenants: tenants, entriesMACInput: macInput)
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

        /// The bytes between the quotes, a slice sharing `bytes`'s buffer.
        mutating func string() -> ArraySlice<UInt8>? {
            guard position < bytes.count, bytes[position] == 0x22 else { return nil }
            let start = position + 1
            let end: Int? = bytes.withUnsafeBufferPointer { buffer in
                let base = buffer.baseAddress!
                guard let quote = memchr(base + start, 0x22, buffer.count - start) else { return nil }
                let end = base.distance(to: quote.assumingMemoryBound(to: UInt8.self))
                for index in start..<end where buffer[index] == 0x5c || buffer[index] < 0x20 { return nil }
                return end
            }
            guard let end else { return nil }
            position = end + 1
            return bytes[start..<end]
        }
    }

    /// What is wrong with a stored entry, or nil.
    private static func problem(with entry: Entry) -> String? {
        let dekID = entry.dekIDBytes
        guard dekID.starts(with: "dek-".utf8), isLowerHex(dekID.dropFirst(4), digits: 16) else {
            return "a DEK id that is not dek- and 16 lower-case hex digits"
        }
        guard isCanonicalBase64OfWrappedKey(entry.wrappedBytes) else {
            return "a wrapped key that is not the canonical base64 of \(wrappedByteCount) bytes"
        }
        guard isLowerHex(entry.commitmentBytes, digits: 64) else { return "a commitment that is not 64 lower-case hex digits" }
        guard entry.createdBytes.withUnsafeBufferPointer(Timestamp.isCanonical(utf8:)) else {
            return "a creation time that is not an ISO 8601 timestamp (such as 2026-03-01T02:00:00Z)"
        }
        return nil
    }

    private static func isLowerHex(_ text: String.UTF8View, digits: Int) -> Bool {
        isLowerHex(ArraySlice(text), digits: digits)
    }

    private static func isLowerHex(_ bytes: ArraySlice<UInt8>, digits: Int) -> Bool {
        bytes.count == digits && bytes.withUnsafeBufferPointer { buffer in
            buffer.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        }
    }

    /// Whether `text` is the one base64 spelling of `wrappedByteCount` (40) bytes, checked by
    /// shape rather than decoded and encoded again (10,000 times at each open): 13 groups of
    /// four characters for 39 bytes, then two characters for the last byte, whose second
    /// carries only 2 of its 6 bits (the other 4 zero), then `==`.
    static func isCanonicalBase64OfWrappedKey(_ text: String) -> Bool {
        isCanonicalBase64OfWrappedKey(ArraySlice(text.utf8))
    }

    static func isCanonicalBase64OfWrappedKey(_ text: ArraySlice<UInt8>) -> Bool {
        guard text.count == 56 else { return false }
        return text.withUnsafeBufferPointer(isCanonicalBase64OfWrappedKey(_:))
    }

    private static func isCanonicalBase64OfWrappedKey(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        func byte(_ offset: Int) -> UInt8 { text[offset] }
        guard byte(54) == 0x3d, byte(55) == 0x3d else { return false }
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
        for offset in 0..<53 where value(byte(offset)) == nil { return false }
        guard let last = value(byte(53)) else { return false }
        return last & 0x0f == 0
    }

    /// `text` cut short and stripped of control characters, for an error message.
    private static func printable(_ text: String) -> String {
        String(text.unicodeScalars.prefix(64).map { $0.properties.generalCategory == .control ? "?" : Character($0) })
    }
}
