import LetheStore

/// Where the audit log keeps its tree, in the C2SP tlog-tiles layout
/// (https://c2sp.org/tlog-tiles), under `audit/`:
///
///     audit/tile/<L>/<N>[.p/<W>]         hash tiles: 256 hashes at tree level 8·L
///     audit/tile/entries/<N>[.p/<W>]     entry bundles: the 256 entries tile N of level 0 hashes
///     audit/checkpoint                   the newest signed checkpoint
///
/// `<N>` is written in 3-digit path elements, all but the last prefixed with `x`
/// (1234067 is `x001/x234/067`); `.p/<W>` names a partial tile of `W` < 256 hashes, the
/// right edge of a tree whose size is not a multiple of 256^(L+1). A full tile never changes
/// once its checkpoint is published; a partial one is superseded by a wider one (and removed
/// once it is), as the specification allows. A tile of a smaller tree is a prefix of the same
/// tile of a larger one, so a reader at an older checkpoint may read a wider tile and cut it.
public enum TileLayout {
    /// log2 of the tile width: tiles are 2^8 = 256 hashes wide.
    public static let height = 8
    public static let width = 1 << height

    static let root = try! ObjectKey("audit/tile")
    static let bundles = try! ObjectKey("audit/tile/entries")

    /// A tile of hashes: level `level`, index `index`, holding `width` hashes (256 when full).
    public struct Tile: Hashable, Sendable, CustomStringConvertible {
        /// The tile level, or nil for an entry bundle.
        public let level: Int?
        public let index: Int
        public let width: Int

        public var isFull: Bool { width == TileLayout.width }
        public var key: ObjectKey { TileLayout.key(level: level, index: index, width: width) }
        /// The folder of this tile's partial versions.
        var partials: ObjectKey { try! ObjectKey("\(TileLayout.key(level: level, index: index, width: TileLayout.width).rawValue).p") }
        public var description: String { key.rawValue }
    }

    /// `x001/x234/067` for 1234067.
    static func encode(_ index: Int) -> String {
        precondition(index >= 0)
        var groups: [String] = []
        var rest = index
        repeat {
            let group = String(rest % 1000)
            groups.append(String(repeating: "0", count: 3 - group.count) + group)
            rest /= 1000
        } while rest > 0
        return groups.reversed().enumerated().map { $0.offset == groups.count - 1 ? $0.element : "x" + $0.element }.joined(separator: "/")
    }

    static func key(level: Int?, index: Int, width: Int) -> ObjectKey {
        precondition((1...TileLayout.width).contains(width))
        let base = "\(level.map { "\(root.rawValue)/\($0)" } ?? bundles.rawValue)/\(encode(index))"
        return try! ObjectKey(width == TileLayout.width ? base : "\(base).p/\(width)")
    }

    /// The tile of `level` (nil: the bundle) with index `index` in a tree of `size` entries,
    /// or nil when that tree has no node in it.
    static func tile(level: Int?, index: Int, treeSize size: Int) -> Tile? {
        let nodes = size >> (height * (level ?? 0))
        let width = min(TileLayout.width, nodes - index * TileLayout.width)
        return width > 0 ? Tile(level: level, index: index, width: width) : nil
    }
}

/// An entry bundle's bytes: each entry as a big-endian 16-bit length and its bytes, as C2SP
/// tlog-tiles specifies.
enum EntryBundle {
    static let maximumEntryBytes = Int(UInt16.max)

    static func encode(_ entries: [[UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.reduce(0) { $0 + 2 + $1.count })
        for entry in entries {
            precondition(entry.count <= maximumEntryBytes)
            bytes.append(UInt8(entry.count >> 8))
            bytes.append(UInt8(entry.count & 0xff))
            bytes += entry
        }
        return bytes
    }

    /// The entries of a bundle, or nil if it is not a sequence of length-prefixed entries.
    static func decode(_ bytes: [UInt8]) -> [[UInt8]]? {
        var entries: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            guard offset + 2 <= bytes.count, entries.count < TileLayout.width else { return nil }
            let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
            offset += 2
            guard length <= bytes.count - offset else { return nil }
            entries.append(Array(bytes[offset..<(offset + length)]))
            offset += length
        }
        return entries
    }
}
