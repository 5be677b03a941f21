import LetheStore

/// The audit log as Lethe stored it before tiles: one object per entry
/// (`audit/entries/<index, 20 digits>`) and a derived `audit/frontier.json`. Such a log is read
/// through tiles computed in memory, and the next append migrates it: it writes the tiles,
/// logs `audit.migrate` under the first checkpoint over them, then removes the old objects.
enum LegacyAuditLayout {
    static let entriesPrefix = try! ObjectKey("audit/entries")
    static let frontierKey = try! ObjectKey("audit/frontier.json")

    static func entryKey(_ index: Int) -> ObjectKey {
        let digits = String(index)
        return try! ObjectKey("audit/entries/" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits)
    }

    /// True while objects of the old layout remain: the first entry, removed first, says a
    /// migration is still to be logged; the frontier, removed last, that the clean-up is unfinished.
    static func isPresent(in store: ObjectStore) throws -> (unmigrated: Bool, leftovers: Bool) {
        let unmigrated = try store.exists(entryKey(0))
        let leftovers = try unmigrated || store.exists(frontierKey)
        return (unmigrated, leftovers)
    }

    /// The tiles of the first `size` legacy entries, computed in memory: what a migration
    /// writes, in the order it writes them.
    static func tiles(size: Int, store: ObjectStore) throws -> [(tile: TileLayout.Tile, bytes: [UInt8])] {
        var entries: [[UInt8]] = []
        entries.reserveCapacity(size)
        for index in 0..<size {
            do {
                entries.append(try store.get(entryKey(index)))
            } catch is ObjectNotFound {
                throw LetheError.integrity("audit log: entry \(index) (\(entryKey(index))) is missing")
            }
            guard entries[index].count <= EntryBundle.maximumEntryBytes else {
                throw LetheError.integrity("audit log: \(entryKey(index)) is larger than an audit entry can be")
            }
        }
        return try TileAppend(onto: TiledTree(size: 0, backing: .memory([:])), entries: entries).writes
    }

    /// The first `size` legacy entries as a tree read from tiles held in memory.
    static func tree(size: Int, store: ObjectStore) throws -> TiledTree {
        let objects = Dictionary(try tiles(size: size, store: store).map { ($0.tile.key, $0.bytes) }, uniquingKeysWith: { $1 })
        return TiledTree(size: size, backing: .memory(objects))
    }

    /// Removes the old layout's objects: the first entry first, the frontier last.
    static func remove(from store: ObjectStore) throws {
        try store.delete(entryKey(0))
        try store.delete(try store.list(prefix: entriesPrefix).map(\.key))
        try store.delete(frontierKey)
    }
}
