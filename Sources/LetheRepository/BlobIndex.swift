/// Where every blob of a tenant is, in memory: the union of its index files.
///
/// A blob may be in more than one pack (a backup interrupted before its index was written
/// re-adds it later; a repack copies it); any location is as good as another.
public struct BlobIndex: Sendable {
    public private(set) var locations: [BlobID: BlobLocation] = [:]
    /// Pack sizes, from the index files.
    public private(set) var packs: [PackID: Int] = [:]
    /// Index files merged so far.
    public private(set) var files: Set<IndexID> = []

    public init() {}

    public func location(of id: BlobID) -> BlobLocation? {
        locations[id]
    }

    public func contains(_ id: BlobID) -> Bool {
        locations[id] != nil
    }

    /// The whole index as index-file contents: every pack with the blobs located in it.
    public func contents() -> IndexContents {
        var byPack: [PackID: [PackEntry]] = [:]
        for (id, location) in locations {
            byPack[location.pack, default: []].append(PackEntry(id: id, location: location))
        }
        return IndexContents(packs: packs.keys.sorted().map { pack in
            IndexContents.PackRecord(
                id: pack, size: packs[pack]!,
                entries: (byPack[pack] ?? []).sorted { $0.location.offset < $1.location.offset })
        })
    }

    public mutating func add(_ contents: IndexContents, file: IndexID?) {
        for pack in contents.packs {
            packs[pack.id] = pack.size
            for entry in pack.entries where locations[entry.id] == nil {
                locations[entry.id] = entry.location
            }
        }
        if let file { files.insert(file) }
    }
}

/// The plaintext of one index file: packs and the blobs in each.
///
///     packCount | per pack: pack id (32) | pack size | entryCount | entries as in a pack header
public struct IndexContents: Sendable, Equatable {
    public struct PackRecord: Sendable, Equatable {
        public let id: PackID
        public let size: Int
        public let entries: [PackEntry]
    }

    public var packs: [PackRecord] = []

    public init(packs: [PackRecord] = []) {
        self.packs = packs
    }

    package func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: packs.reduce(16) { $0 + 48 + $1.entries.count * 45 })
        writer.varint(packs.count)
        for pack in packs {
            writer.identifier(pack.id)
            writer.varint(pack.size)
            let header = Pack.encodeHeader(pack.entries)
            writer.data(header)
        }
        return writer.bytes
    }

    package static func decode(_ bytes: [UInt8], what: String) throws -> IndexContents {
        var reader = ByteReader(bytes, what: what)
        // A pack record is at least 34 bytes: the pack id, its size, its header's length.
        let count = try reader.count(limit: 1 << 24, elementsOfAtLeast: 34)
        var packs: [PackRecord] = []
        packs.reserveCapacity(count)
        for _ in 0..<count {
            let id: PackID = try reader.identifier()
            let size = try reader.count(limit: Int.max)
            let entries = try Pack.decodeHeader(try reader.data(limit: 1 << 28), pack: id, what: what)
            packs.append(PackRecord(id: id, size: size, entries: entries))
        }
        try reader.expectEnd()
        return IndexContents(packs: packs)
    }
}
