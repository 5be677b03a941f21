import Foundation
import LetheStore
import Testing
@testable import LetheRepository

/// Trees sit in packs of their own and are read a run at a time: a walk of a snapshot costs
/// a ranged read per tree pack, not per tree, and every tree is still authenticated alone.
@Suite struct TreeRunsTests {
    let fixture: RepositoryFixture
    let source: String
    let first: Archiver.Result

    /// 40 folders of 3 files each under 4 top folders, and a 3 MiB file: 45 trees.
    init() throws {
        fixture = try RepositoryFixture()
        source = try fixture.directory("source")
        for top in 0..<4 {
            for sub in 0..<10 {
                let folder = "\(source)/top\(top)/sub\(sub)"
                try FileSystem.makeDirectories(folder)
                for n in 0..<3 {
                    try Data(testBytes(2_000 + n, seed: UInt64(top * 100 + sub * 10 + n))).write(to: URL(fileURLWithPath: "\(folder)/f\(n)"))
                }
            }
        }
        try Data(testBytes(3 << 20, seed: 7)).write(to: URL(fileURLWithPath: "\(source)/large"))
        first = try fixture.backup(try fixture.repository("acme"), source: source)
    }

    /// A repository over a store that counts ranged reads, with its index loaded.
    func counted() throws -> (Repository, CountingStore) {
        let counting = CountingStore(fixture.store)
        let repository = try Repository(store: counting, key: try fixture.key("acme"), compression: .standard)
        try repository.loadIndex()
        counting.rangedReads = 0
        return (repository, counting)
    }

    /// Every tree of the snapshot, parent first, as a restore or a backup's parent walk meets them.
    func walk(_ repository: Repository, _ root: BlobID) throws -> [Tree] {
        var trees: [Tree] = []
        var pending = [root]
        while let id = pending.popLast() {
            let tree = try repository.loadTree(id)
            trees.append(tree)
            pending += tree.nodes.compactMap(\.subtree).reversed()
        }
        return trees
    }

    @Test func aBackupPutsTreesAndContentInPacksOfTheirOwn() throws {
        let (repository, _) = try counted()
        var types: [PackID: Set<BlobType>] = [:]
        for location in repository.index.locations.values { types[location.pack, default: []].insert(location.type) }
        #expect(types.values.allSatisfy { $0.count == 1 }, "a pack holds one type of blob")
        #expect(types.values.filter { $0 == [.tree] }.count == 1, "45 small trees fill one tree pack")
        #expect(first.newTrees.count == 45)
    }

    @Test func walkingASnapshotReadsEachTreePackOnce() throws {
        let (repository, counting) = try counted()
        let trees = try walk(repository, try #require(first.snapshot.treeID))
        #expect(trees.count == 45)
        #expect(counting.rangedReads == 1, "\(counting.rangedReads) ranged reads for one tree pack")
        // The same trees as read one blob at a time.
        let single = try fixture.repository("acme")
        try single.loadIndex()
        for tree in trees {
            let id = try single.keys.blobID(for: tree.encoded())
            #expect(try Tree.decode(single.readBlob(id), what: "tree") == tree)
        }
    }

    @Test func anUnchangedBackupReadsOnlyItsParentsTreePack() throws {
        let (repository, counting) = try counted()
        let second = try fixture.backup(repository, source: source, parent: first)
        #expect(second.snapshot.treeID == first.snapshot.treeID)
        #expect(second.snapshot.summary.filesUnchanged == 121)
        #expect(counting.rangedReads == 1, "\(counting.rangedReads) ranged reads; one blob at a time took 45")
    }

    /// S flips a byte of one tree inside a run: that tree fails as an integrity violation, the
    /// run's other trees still read.
    @Test func aTamperedTreeInARunFailsAloneAndLoudly() throws {
        let (repository, _) = try counted()
        let victim = try #require(first.newTrees.keys.first { $0 != first.snapshot.treeID })
        let location = try #require(repository.index.location(of: victim))
        try fixture.flip(Layout.pack(repository.tenant, location.pack), at: location.offset + 3)
        #expect(throws: IntegrityViolation.self) { _ = try repository.loadTree(victim) }
        for id in first.newTrees.keys where id != victim {
            #expect(try repository.loadTree(id) == first.newTrees[id])
        }
    }

    /// S cuts the tree pack short: the run cannot be read, each tree is read alone, and those
    /// beyond the cut are the truncation `readBlob` names.
    @Test func aTruncatedTreePackFailsOnlyTheTreesBeyondTheCut() throws {
        let (repository, _) = try counted()
        let locations = first.newTrees.keys.map { ($0, repository.index.location(of: $0)!) }.sorted { $0.1.offset < $1.1.offset }
        let cut = locations[locations.count / 2].1
        let key = Layout.pack(repository.tenant, cut.pack)
        try fixture.store.put(key, Array(try fixture.store.get(key).prefix(cut.offset + 1)))
        for (id, location) in locations {
            if location.offset < cut.offset {
                #expect(try repository.loadTree(id) == first.newTrees[id])
            } else {
                #expect(throws: IntegrityViolation.self) { _ = try repository.loadTree(id) }
            }
        }
    }

    /// Packs written before trees had packs of their own mix trees and content: a run stops at
    /// content longer than `maximumGap`, and spans a shorter gap.
    @Test func aRunSpansShortGapsOnlyInAPackThatMixesTreesAndContent() throws {
        let repository = try fixture.repository("mixed")
        try repository.loadIndex()
        let trees = (0..<3).map { n in
            Tree(nodes: [Node(name: "file\(n)", kind: .file, mode: 0o644, modified: FileTime(seconds: Int64(n), nanoseconds: 0),
                              changed: FileTime(seconds: 0, nanoseconds: 0))])
        }
        let writer = try PackWriter(keys: repository.keys, store: repository.store)
        var entries: [PackEntry] = []
        func add(_ bytes: [UInt8], _ type: BlobType) throws {
            entries.append(try bytes.withUnsafeBytes { try writer.add($0, id: try repository.keys.blobID(for: $0), type: type) })
        }
        try add(trees[0].encoded(), .tree)
        try add(testBytes(10_000, seed: 1), .data)
        try add(trees[1].encoded(), .tree)
        try add(testBytes(TreeRuns.maximumGap + 1, seed: 2), .data)
        try add(trees[2].encoded(), .tree)
        let size = try writer.finish()
        try repository.writeIndex(IndexContents(packs: [.init(id: writer.id, size: size, entries: entries)]))

        let store = CountingStore(fixture.store)
        let reader = try Repository(store: store, key: try fixture.key("mixed"))
        try reader.loadIndex()
        store.rangedReads = 0
        store.readBytes = 0
        let ids = try trees.map { try reader.keys.blobID(for: $0.encoded()) }
        #expect(try reader.loadTree(ids[0]) == trees[0])
        #expect(try reader.loadTree(ids[1]) == trees[1], "in the run of the first: no read")
        #expect(store.rangedReads == 1)
        #expect(store.readBytes == entries[2].location.offset + entries[2].location.sealedLength - entries[0].location.offset)
        #expect(try reader.loadTree(ids[2]) == trees[2])
        #expect(store.rangedReads == 2, "beyond the long gap: a read of its own")
        #expect(store.readBytes == entries[2].location.offset + entries[2].location.sealedLength - entries[0].location.offset
                + entries[4].location.sealedLength)
    }

    // MARK: TreeRuns alone, over an index of made-up locations

    /// An index of `count` trees of `length` bytes in one pack, `gap` bytes apart.
    func layout(trees count: Int, length: Int, gap: Int) throws -> (BlobIndex, [BlobLocation]) {
        let pack = try PackID.random()
        var entries: [PackEntry] = []
        var offset = 8
        for _ in 0..<count {
            let location = BlobLocation(pack: pack, type: .tree, flags: 0, offset: offset, sealedLength: length, plainLength: length - 16)
            entries.append(PackEntry(id: try BlobID.random(), location: location))
            offset += length + gap
        }
        var index = BlobIndex()
        index.add(IndexContents(packs: [.init(id: pack, size: offset, entries: entries)]), file: nil)
        return (index, entries.map(\.location))
    }

    /// Trees far apart (content between them, as in packs written before tree packs) are each
    /// left to a read of their own, and nothing is kept: a walk of many such trees costs what
    /// it cost before, not a search through every tree read so far.
    @Test func aTreeWithNoNeighbourCloseEnoughIsLeftToASingleRead() throws {
        let (index, locations) = try layout(trees: 50, length: 200, gap: TreeRuns.maximumGap + 1)
        let runs = TreeRuns()
        var reads = 0
        for location in locations {
            #expect(try runs.sealed(at: location, index: index, read: { _, range in reads += 1; return [UInt8](repeating: 0, count: range.count) }) == nil)
        }
        #expect(reads == 0)
    }

    /// A tree longer than a run is read alone, and never kept in memory.
    @Test func aTreeLongerThanARunIsLeftToASingleRead() throws {
        let (index, locations) = try layout(trees: 2, length: TreeRuns.maximumRun + 1, gap: 0)
        let runs = TreeRuns()
        var reads = 0
        #expect(try runs.sealed(at: locations[0], index: index, read: { _, range in reads += 1; return [UInt8](repeating: 0, count: range.count) }) == nil)
        #expect(reads == 0)
    }

    /// Trees side by side: one read serves them all; only the runs used last are kept.
    @Test func neighbouringTreesAreOneReadAndOnlyTheLastRunsAreKept() throws {
        let (index, locations) = try layout(trees: 40, length: 300, gap: 0)
        let runs = TreeRuns()
        var reads = 0
        let read: (PackID, Range<Int>) throws -> [UInt8] = { _, range in
            reads += 1
            return range.map { UInt8(truncatingIfNeeded: $0) }
        }
        for location in locations.reversed() {
            let bytes = try #require(try runs.sealed(at: location, index: index, read: read))
            #expect(bytes == (location.offset..<(location.offset + 300)).map { UInt8(truncatingIfNeeded: $0) })
        }
        #expect(reads == 1)
        // Other packs' runs push this one out after `retainedRuns` of them.
        for _ in 0..<TreeRuns.retainedRuns {
            let (other, far) = try layout(trees: 2, length: 300, gap: 0)
            runs.indexChanged()
            _ = try runs.sealed(at: far[0], index: other, read: read)
        }
        runs.indexChanged()
        _ = try runs.sealed(at: locations[0], index: index, read: read)
        #expect(reads == 2 + TreeRuns.retainedRuns)
    }

    /// A run that is missing or cut short is left to the single read, which names the fault;
    /// any other failure (the store unreachable) is thrown, not tried a second way.
    @Test func onlyAMissingOrShortRunIsLeftToTheSingleRead() throws {
        struct Unreachable: Error {}
        let (index, locations) = try layout(trees: 3, length: 300, gap: 0)
        let runs = TreeRuns()
        let key = try ObjectKey("tenants/acme/data/00/x")
        #expect(try runs.sealed(at: locations[0], index: index, read: { _, _ in throw ObjectNotFound(key: key) }) == nil)
        #expect(try runs.sealed(at: locations[0], index: index, read: { _, range in [UInt8](repeating: 0, count: range.count - 1) }) == nil)
        #expect(throws: Unreachable.self) { _ = try runs.sealed(at: locations[0], index: index, read: { _, _ in throw Unreachable() }) }
    }
}
