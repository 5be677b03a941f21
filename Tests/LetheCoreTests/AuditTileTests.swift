import Foundation
@testable import LetheCore
import LetheStore
import Testing

/// The tile layout and the tile arithmetic, checked against the plain RFC 9162 computation
/// over all leaves (itself checked against published vectors and Go's tlog elsewhere).
@Suite struct AuditTileTests {
    @Test(arguments: [(0, "000"), (7, "007"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067"), (1_000_000, "x001/x000/000")])
    func indexesAreWrittenInThreeDigitPathElements(index: Int, path: String) {
        #expect(TileLayout.encode(index) == path)
    }

    @Test func keysFollowTheSpecification() {
        #expect(TileLayout.key(level: 0, index: 1234067, width: 256).rawValue == "audit/tile/0/x001/x234/067")
        #expect(TileLayout.key(level: 2, index: 3, width: 17).rawValue == "audit/tile/2/003.p/17")
        #expect(TileLayout.key(level: nil, index: 1000, width: 1).rawValue == "audit/tile/entries/x001/000.p/1")
        #expect(TileLayout.tile(level: 0, index: 1, treeSize: 300) == .init(level: 0, index: 1, width: 44))
        #expect(TileLayout.tile(level: 1, index: 0, treeSize: 300) == .init(level: 1, index: 0, width: 1))
        #expect(TileLayout.tile(level: 1, index: 0, treeSize: 255) == nil)
    }

    @Test func bundlesRoundTripAndRefuseMalformedBytes() {
        let entries: [[UInt8]] = [[], [1], Array(repeating: 7, count: 300)]
        #expect(EntryBundle.decode(EntryBundle.encode(entries)) == entries)
        #expect(EntryBundle.decode([0]) == nil, "a length cut in half")
        #expect(EntryBundle.decode([0, 5, 1, 2]) == nil, "an entry longer than what follows")
        #expect(EntryBundle.decode(EntryBundle.encode(Array(repeating: [1], count: 257))) == nil, "more entries than a bundle holds")
    }

    /// Appends in uneven batches across tile boundaries of levels 0, 1 and 2 (65,536 leaves
    /// fill a level-1 tile), and after each compares the tiled root, frontier, proofs and the
    /// stored tiles with the computation over every leaf.
    @Test func tiledTreesAgreeWithTheWholeTreeAcrossLevels() throws {
        var objects: [ObjectKey: [UInt8]] = [:]
        var leaves: [MerkleTree.Hash] = []
        var entries: [[UInt8]] = []
        var size = 0
        for batch in [1, 254, 1, 1, 300, 65_000, 500, 256 * 3] {
            let tree = TiledTree(size: size, backing: .memory(objects))
            let new = (0..<batch).map { n in Array("entry \(size + n)".utf8) }
            let append = try TileAppend(onto: tree, entries: new)
            for write in append.writes { objects[write.tile.key] = write.bytes }
            entries += new
            leaves += try new.map { try MerkleTree.leafHash($0) }
            size += batch
            let grown = TiledTree(size: size, backing: .memory(objects))
            let root = try MerkleTree.root(leaves)
            #expect(append.root == root && append.size == size)
            #expect(try grown.root() == root, "size \(size)")
            for index in [0, size / 3, size - 1] {
                #expect(try MerkleTree.verifyInclusion(
                    leaf: leaves[index], index: index, size: size, proof: try grown.inclusionProof(index: index), root: root))
            }
            if size > 1 {
                let old = size / 2 + 1
                #expect(try MerkleTree.verifyConsistency(
                    oldSize: old, newSize: size, oldRoot: try MerkleTree.root(leaves[0..<old]), newRoot: root,
                    proof: try grown.consistencyProof(from: old)))
            }
            var recomputation = TileRecomputation(tree: grown)
            for leaf in leaves { #expect(try recomputation.add(leaf) == nil) }
            #expect(try recomputation.finish() == nil)
        }
        // The objects a spec reader expects, and no others kept (partials superseded in the
        // store are removed by the log; here every width written stays in the dictionary).
        let bundle = try TiledTree(size: size, backing: .memory(objects)).entries(bundle: 200)
        #expect(bundle == Array(entries[(200 * 256)..<(201 * 256)]))
        #expect(objects[TileLayout.key(level: 2, index: 0, width: 1)] != nil, "a level-2 tile once 65,536 leaves exist")
        #expect(objects[TileLayout.key(level: 1, index: 0, width: 256)]?.count == 256 * 32)
    }
}

/// A log written before tiles (one object per entry) is read as it is, and migrated once by
/// the next append, which logs the migration.
@Suite struct AuditMigrationTests {
    let test = try! TestInstallation()
    var trail: AuditTrail { AuditTrail(test.installation) }
    var store: ObjectStore { test.installation.store }

    /// Rewrites the log into the layout before tiles: the same entries and checkpoints.
    func makeLegacy() throws -> [String] {
        for n in 0..<3 { try trail.record("old.event", tenant: nil, details: ["n": String(n)]) }
        let history = try trail.history()
        var frontier = MerkleFrontier()
        for (index, bytes) in history.bytes.enumerated() {
            try store.put(LegacyAuditLayout.entryKey(index), bytes)
            try frontier.append(try MerkleTree.leafHash(bytes))
        }
        try store.put(LegacyAuditLayout.frontierKey, Array(try JSONEncoder().encode(frontier)))
        try store.delete(try store.list(prefix: TileLayout.root).map(\.key))
        return history.entries.map(\.operation)
    }

    func verification() throws -> AuditLog.Verification {
        try trail.log.verify(publicKey: try test.installation.signingKey().publicKey)
    }

    @Test func aLegacyLogIsReadAndMigratedOnceByTheNextAppend() throws {
        let operations = try makeLegacy()
        test.installation.cachedHistory = nil
        #expect(try trail.history().entries.map(\.operation) == operations)
        #expect(try verification().isClean)
        try trail.record("new.event", tenant: nil)
        #expect(try trail.history().entries.map(\.operation) == operations + ["audit.migrate", "new.event"])
        #expect(try store.list(prefix: LegacyAuditLayout.entriesPrefix).isEmpty && !store.exists(LegacyAuditLayout.frontierKey))
        let after = try verification()
        #expect(after.isClean && after.notes.isEmpty)
        try trail.record("later", tenant: nil)
        #expect(try trail.history().entries.filter { $0.operation == "audit.migrate" }.count == 1)
    }

    @Test func aMigrationInterruptedBeforeItsCheckpointIsLoggedOnceWhenResumed() throws {
        let operations = try makeLegacy()
        // The crash: tiles written, no checkpoint over them, the old objects still there.
        let size = operations.count
        for write in try LegacyAuditLayout.tiles(size: size, store: store) { try store.put(write.tile.key, write.bytes) }
        test.installation.cachedHistory = nil
        #expect(try verification().notes.contains { $0.contains("layout before tiles") })
        try trail.record("new.event", tenant: nil)
        #expect(try trail.history().entries.map(\.operation) == operations + ["audit.migrate", "new.event"])
        #expect(try !store.exists(LegacyAuditLayout.entryKey(0)))
    }

    @Test func anEditedLegacyEntryIsNotMigratedOver() throws {
        _ = try makeLegacy()
        let key = LegacyAuditLayout.entryKey(1)
        try store.put(key, Array(String(decoding: try store.get(key), as: UTF8.self).replacingOccurrences(of: "old.event", with: "new.event").utf8))
        test.installation.cachedHistory = nil
        #expect(throws: LetheError.self) { try trail.record("over.an.edit", tenant: nil) }
        #expect(try store.list(prefix: TileLayout.root).isEmpty, "no tiles written over an edited log")
    }
}

/// Lethe's stored tiles read by Go's golang.org/x/mod/sumdb/tlog as static files
/// (`Tests/Interop/tlog/main.go tiles`): TileHashReader checks each tile against the signed
/// tree, TreeHash gives the signed root, every entry has a checked inclusion proof, and every
/// archived checkpoint a checked consistency proof.
@Suite struct GoTlogTileTests {
    let test = try! TestInstallation()

    func goReads() throws -> GoTlog.Run {
        let key = try test.installation.signingKey()
        let vkey = "\(test.root)/verifier-key.txt"
        let origin = AuditTrail(test.installation).log.origin
        try Data("\(try NoteVerifierKey(name: origin, publicKey: key.publicKey).text)\n".utf8).write(to: URL(fileURLWithPath: vkey))
        return try GoTlog.run("tiles", "\(test.root)/home/store/audit", vkey)
    }

    /// Appends in batches that cross tile boundaries, leave partial tiles and complete them.
    func fill() throws {
        let trail = AuditTrail(test.installation)
        var n = 0
        for batch in [1, 200, 54, 1, 300, 3] {
            try trail.record((0..<batch).map { _ in n += 1; return AuditLog.Event("test.event", tenant: nil, details: ["n": String(n)]) })
        }
    }

    @Test func goReadsLethesTiles() throws {
        try fill()
        let run = try goReads()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(String(decoding: run.stdout, as: UTF8.self).contains("560 entries in tiles, 7 archived checkpoints"), "\(String(decoding: run.stdout, as: UTF8.self))")
    }

    @Test func goRefusesAnEditedFullTile() throws {
        try fill()
        let path = "\(test.root)/home/store/audit/tile/0/001"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[100] ^= 1
        try bytes.write(to: URL(fileURLWithPath: path))
        let run = try goReads()
        #expect(run.status == 1 && run.stderr.contains("invalid transparency proof"), "\(run.stderr)")
    }

    @Test func goRefusesAnEditedEntry() throws {
        try fill()
        let path = "\(test.root)/home/store/audit/tile/entries/000"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[40] ^= 1
        try bytes.write(to: URL(fileURLWithPath: path))
        let run = try goReads()
        #expect(run.status == 1 && run.stderr.contains("does not hash to its leaf"), "\(run.stderr)")
    }
}
