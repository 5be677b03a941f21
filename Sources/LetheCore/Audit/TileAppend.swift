import LetheStore

/// The tiles an append writes: given the tree as it stands (its right edge read from its tiles
/// and checked against the signed root by the caller) and the new entries, every entry bundle
/// and hash tile that changes, and the new root.
///
/// Only the right edge changes: the partial bundle and the partial tile of each level are
/// rewritten wider (or full), and new tiles follow them. A tile that becomes full gives its
/// root to the level above, as C2SP tlog-tiles stacks them: level L holds the nodes of tree
/// level 8·L.
struct TileAppend {
    /// Each changed tile with its new bytes: bundles first, then hash tiles level by level, the
    /// order they are written in (a checkpoint is signed only after all of them are durable).
    private(set) var writes: [(tile: TileLayout.Tile, bytes: [UInt8])] = []
    let size: Int
    let root: MerkleTree.Hash

    init(onto tree: TiledTree, entries: [[UInt8]]) throws {
        let oldSize = tree.size
        size = oldSize + entries.count
        var frontier = try tree.frontier()

        // Level 0 and the bundles: the partial right edge, checked, then the new entries.
        var leaves: [MerkleTree.Hash] = []
        leaves.reserveCapacity(entries.count)
        for entry in entries {
            let leaf = try MerkleTree.leafHash(entry)
            leaves.append(leaf)
            try frontier.append(leaf)
        }
        root = try frontier.root()

        let edge = oldSize % TileLayout.width
        var bundle: [[UInt8]] = []
        if edge > 0 {
            let tile = oldSize / TileLayout.width
            bundle = try tree.entries(bundle: tile)
            let hashes = try tree.hashes(level: 0, index: tile)
            for (offset, entry) in bundle.enumerated() where try MerkleTree.leafHash(entry) != hashes[offset] {
                throw LetheError.integrity(
                    "audit log: entry \(tile * TileLayout.width + offset) in \(TileLayout.key(level: nil, index: tile, width: edge)) does not match its hash in the signed tree")
            }
        }
        var index = oldSize / TileLayout.width
        for entry in entries {
            bundle.append(entry)
            if bundle.count == TileLayout.width {
                writes.append((TileLayout.Tile(level: nil, index: index, width: bundle.count), EntryBundle.encode(bundle)))
                bundle = []
                index += 1
            }
        }
        if !bundle.isEmpty { writes.append((TileLayout.Tile(level: nil, index: index, width: bundle.count), EntryBundle.encode(bundle))) }

        // Hash tiles, from level 0 up, as long as a level gains nodes.
        var newNodes = leaves
        var oldCount = oldSize
        var level = 0
        while !newNodes.isEmpty {
            let edge = oldCount % TileLayout.width
            var index = oldCount / TileLayout.width
            var tile = edge > 0 ? try tree.hashes(level: level, index: index) : []
            var completed: [MerkleTree.Hash] = []
            for node in newNodes {
                tile.append(node)
                if tile.count == TileLayout.width {
                    writes.append((TileLayout.Tile(level: level, index: index, width: tile.count), tile.flatMap { $0 }))
                    completed.append(try TiledTree.perfectRoot(tile[...]))
                    tile = []
                    index += 1
                }
            }
            if !tile.isEmpty { writes.append((TileLayout.Tile(level: level, index: index, width: tile.count), tile.flatMap { $0 })) }
            newNodes = completed
            oldCount /= TileLayout.width
            level += 1
        }
    }
}
