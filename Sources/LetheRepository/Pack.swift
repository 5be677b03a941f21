import LetheCrypto
import LetheStore

/// What a blob holds: file content, or a tree (one directory listing).
public enum BlobType: UInt8, Sendable {
    case data = 1
    case tree = 2
}

/// Where a blob is: its pack and its place in it.
public struct BlobLocation: Hashable, Sendable {
    public let pack: PackID
    public let type: BlobType
    /// Bit 0: the blob is stored as an LZ4 block (`BlobCompression`); no other bit is used.
    public let flags: UInt8
    public let offset: Int
    /// Bytes in the pack: ciphertext and tag.
    public let sealedLength: Int
    /// The blob's own length: for a compressed blob, what its block decodes to.
    public let plainLength: Int

    public var isCompressed: Bool { flags & BlobCompression.flag != 0 }
}

/// One entry of a pack header (and of an index file).
public struct PackEntry: Hashable, Sendable {
    public let id: BlobID
    public let location: BlobLocation
}

/// A pack file, `tenants/<t>/data/<xx>/<pack id>`:
///
///     "LTHPACK" 0x01 | blob 0 | blob 1 | … | header | header length (u32 little-endian)
///
/// The pack's key is `HKDF(encryption subkey, salt: pack id, "lethe/v1/pack-key")`. Blob i
/// is AES-256-GCM under that key with nonce `00000000 ‖ offset (u64 big-endian)`; the header
/// with nonce `ffffffff ‖ 0⁸`. Offsets are distinct within a pack and the pack id is random,
/// so no (key, nonce) pair repeats. Each blob's associated data binds tenant, "blob", its id,
/// the pack id, its type, flags and offset, and for a compressed blob the length it decodes
/// to; the header's binds tenant, "pack-header" and the pack id. See docs/format.md.
package enum Pack {
    static let preamble: [UInt8] = Array("LTHPACK".utf8) + [1]
    static let headerNonce: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]

    static func key(pack: PackID, keys: TenantKeys) throws -> SymmetricKey {
        try SymmetricKey(HKDF.deriveKey(
            inputKeyMaterial: keys.encryption, salt: pack.bytes, info: Array("lethe/v1/pack-key".utf8), outputByteCount: 32))
    }

    static func blobNonce(offset: Int) -> [UInt8] {
        var nonce: [UInt8] = [0, 0, 0, 0]
        for shift in stride(from: 56, through: 0, by: -8) { nonce.append(UInt8(truncatingIfNeeded: UInt64(offset) >> UInt64(shift))) }
        return nonce
    }

    static func blobAssociatedData(_ id: BlobID, _ location: BlobLocation, tenant: TenantID) -> [UInt8] {
        var extra = location.pack.bytes
        extra.append(location.type.rawValue)
        extra.append(location.flags)
        for shift in stride(from: 56, through: 0, by: -8) { extra.append(UInt8(truncatingIfNeeded: UInt64(location.offset) >> UInt64(shift))) }
        // A compressed blob's tag covers the length its block must decode to, so the blob
        // itself, not only the header that lists it, says how much output it may produce.
        if location.isCompressed {
            for shift in stride(from: 56, through: 0, by: -8) { extra.append(UInt8(truncatingIfNeeded: UInt64(location.plainLength) >> UInt64(shift))) }
        }
        return AssociatedData.make(tenant: tenant, kind: "blob", id: id.bytes, extra: extra)
    }

    static func headerAssociatedData(_ pack: PackID, tenant: TenantID) -> [UInt8] {
        AssociatedData.make(tenant: tenant, kind: "pack-header", id: pack.bytes)
    }

    package static func encodeHeader(_ entries: [PackEntry]) -> [UInt8] {
        var writer = ByteWriter(capacity: entries.count * 45 + 8)
        writer.varint(entries.count)
        for entry in entries {
            writer.byte(entry.location.type.rawValue)
            writer.byte(entry.location.flags)
            writer.identifier(entry.id)
            writer.varint(entry.location.offset)
            writer.varint(entry.location.sealedLength)
            writer.varint(entry.location.plainLength)
        }
        return writer.bytes
    }

    package static func decodeHeader(_ bytes: [UInt8], pack: PackID, what: String) throws -> [PackEntry] {
        var reader = ByteReader(bytes, what: what)
        // An entry is at least 37 bytes: type, flags, the blob id and three varints.
        let count = try reader.count(limit: 1 << 22, elementsOfAtLeast: 37)
        var entries: [PackEntry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            guard let type = BlobType(rawValue: try reader.byte()) else { throw MalformedData(what: what, reason: "unknown blob type") }
            let flags = try reader.byte()
            // Bit 0 is compression; a reader must refuse a bit it does not understand rather
            // than return the bytes as plain.
            guard flags & ~BlobCompression.flag == 0 else {
                throw MalformedData(what: what, reason: "blob flags \(flags) are not understood by this version")
            }
            let id: BlobID = try reader.identifier()
            let offset = try reader.count()
            let sealed = try reader.count()
            let plain = try reader.count()
            if flags & BlobCompression.flag == 0 {
                guard sealed == plain + AESGCM.tagByteCount else { throw MalformedData(what: what, reason: "blob lengths disagree") }
            } else {
                // A block is at least one byte, and decodes to at most one chunk and to no
                // more than its length allows.
                let block = sealed - AESGCM.tagByteCount
                guard block >= 1, plain <= BlobCompression.maximumUncompressedLength, plain <= LZ4.maximumDecompressedLength(block) else {
                    throw MalformedData(what: what, reason: "compressed blob lengths are impossible")
                }
            }
            entries.append(PackEntry(id: id, location: BlobLocation(
                pack: pack, type: type, flags: flags, offset: offset, sealedLength: sealed, plainLength: plain)))
        }
        try reader.expectEnd()
        return entries
    }
}

/// Writes one pack straight into the store as its blobs arrive, so memory holds one sealed
/// blob at a time, not the pack. The pack becomes visible only at `finish()`; a writer
/// released before that leaves nothing behind.
package final class PackWriter {
    package let id: PackID
    private let key: SymmetricKey
    private let keys: TenantKeys
    private let output: ObjectWriter
    /// Reused for each sealed blob.
    private var scratch: [UInt8] = []
    private(set) var size = 0
    private(set) var entries: [PackEntry] = []

    /// A pack named `id` (fuzzing's seeds name theirs), else a fresh random id.
    package init(keys: TenantKeys, store: ObjectStore, id: PackID? = nil) throws {
        self.id = try id ?? PackID.random()
        key = try Pack.key(pack: self.id, keys: keys)
        self.keys = keys
        output = try store.writer(for: Layout.pack(keys.tenant, self.id))
        try emit(Pack.preamble)
    }

    /// Encrypts `plaintext` into the pack as blob `id`, compressed first when `compression`
    /// says it is worth it.
    package func add(_ plaintext: UnsafeRawBufferPointer, id: BlobID, type: BlobType, compression: BlobCompression = .off) throws -> PackEntry {
        let block = compression.compress(plaintext)
        let stored = block?.count ?? plaintext.count
        let location = BlobLocation(
            pack: self.id, type: type, flags: block == nil ? 0 : BlobCompression.flag, offset: size,
            sealedLength: stored + AESGCM.tagByteCount, plainLength: plaintext.count)
        let aad = Pack.blobAssociatedData(id, location, tenant: keys.tenant)
        scratch.removeAll(keepingCapacity: true)
        try aad.withUnsafeBytes { ad in
            let nonce = Pack.blobNonce(offset: location.offset)
            if let block {
                try block.withUnsafeBytes { try AESGCM.seal($0, key: key, nonce: nonce, authenticating: ad, appendingTo: &scratch) }
            } else {
                try AESGCM.seal(plaintext, key: key, nonce: nonce, authenticating: ad, appendingTo: &scratch)
            }
        }
        try emit(scratch)
        let entry = PackEntry(id: id, location: location)
        entries.append(entry)
        return entry
    }

    /// Writes the sealed header and its length and commits the pack; returns its size.
    package func finish() throws -> Int {
        let header = Pack.encodeHeader(entries)
        scratch.removeAll(keepingCapacity: true)
        try header.withUnsafeBytes { h in
            try Pack.headerAssociatedData(id, tenant: keys.tenant).withUnsafeBytes { ad in
                try AESGCM.seal(h, key: key, nonce: Pack.headerNonce, authenticating: ad, appendingTo: &scratch)
            }
        }
        let length = UInt32(scratch.count)
        scratch.append(contentsOf: [UInt8(length & 0xff), UInt8(length >> 8 & 0xff), UInt8(length >> 16 & 0xff), UInt8(length >> 24)])
        try emit(scratch)
        try output.commit()
        return size
    }

    private func emit(_ bytes: [UInt8]) throws {
        try output.write(bytes)
        size += bytes.count
    }
}
