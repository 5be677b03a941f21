import LetheCrypto
import LetheStore

/// A 256-bit identifier of one kind of repository object. The kind is a phantom type, so a
/// `BlobID` can never be passed where a `PackID` is expected.
///
/// Held as four words so that dictionary lookups in the index (hundreds of thousands per
/// backup) hash and compare without touching an array.
public struct Identifier<Kind>: Hashable, Comparable, Sendable, CustomStringConvertible {
    let w0, w1, w2, w3: UInt64

    public static var byteCount: Int { 32 }

    public init(bytes: some Collection<UInt8>) {
        precondition(bytes.count == 32, "identifiers are 32 bytes")
        var words: [UInt64] = [0, 0, 0, 0]
        for (index, byte) in bytes.enumerated() {
            words[index / 8] = words[index / 8] << 8 | UInt64(byte)
        }
        (w0, w1, w2, w3) = (words[0], words[1], words[2], words[3])
    }

    /// Parses 64 hex digits.
    public init?(hex: some StringProtocol) {
        guard hex.utf8.count == 64, let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    /// A fresh random identifier (for packs, index files, snapshots).
    public static func random() throws -> Identifier {
        Identifier(bytes: try SystemRandom.bytes(count: 32))
    }

    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for word in [w0, w1, w2, w3] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return out
    }

    public var hex: String { Hex.encode(bytes) }

    /// The first 8 hex digits, as listings show ids.
    public var short: String { String(hex.prefix(8)) }

    public var description: String { hex }

    public static func < (lhs: Identifier, rhs: Identifier) -> Bool {
        (lhs.w0, lhs.w1, lhs.w2, lhs.w3) < (rhs.w0, rhs.w1, rhs.w2, rhs.w3)
    }

    /// The first byte, which spreads objects over 256 sub-folders and nightly verify buckets.
    public var firstByte: UInt8 { UInt8(truncatingIfNeeded: w0 >> 56) }
}

public enum BlobKind {}
public enum PackKind {}
public enum IndexKind {}
public enum SnapshotKind {}

/// The keyed MAC of a blob's plaintext (HMAC-SHA256 under the tenant's blob-id subkey).
public typealias BlobID = Identifier<BlobKind>
/// A random name of a pack file.
public typealias PackID = Identifier<PackKind>
/// A random name of an index file.
public typealias IndexID = Identifier<IndexKind>
/// A random name of a snapshot.
public typealias SnapshotID = Identifier<SnapshotKind>
