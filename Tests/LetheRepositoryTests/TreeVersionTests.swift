import Foundation
import Glibc
import LetheStore
import Testing
@testable import LetheRepository

/// Version 2 trees carry the snapshot root's attributes and files' link counts; version 1
/// trees, which every snapshot before them holds, still read and restore.
@Suite struct TreeVersionTests {
    let fixture = try! RepositoryFixture()
    let id = BlobID(bytes: [UInt8](repeating: 7, count: 32))

    func file(_ name: String, links: UInt64 = 1, device: UInt64 = 0) -> Node {
        Node(name: name, kind: .file, mode: 0o644, modified: FileTime(seconds: 1, nanoseconds: 2),
             changed: FileTime(seconds: 3, nanoseconds: 4), inode: 5, size: 6, content: [id], links: links, device: device)
    }

    @Test func aTreeWithNeitherAttributesNorLinksIsStillWrittenAsVersion1() {
        #expect(Tree(nodes: [file("a")]).encoded().first == 1)
        #expect(Tree(nodes: []).encoded() == [1, 0])
    }

    @Test func theVersion2EncodingIsTheOneDocumented() {
        let attributes = DirectoryAttributes(mode: 0o755, uid: 1, gid: 2, modified: FileTime(seconds: -1, nanoseconds: 3))
        // version, attributes flag, mode 0o755 = 493, uid, gid, zigzag(-1), ns, node count 0
        #expect(Tree(nodes: [], attributes: attributes).encoded() == [2, 1, 0xed, 0x03, 1, 2, 1, 3, 0])
        // version, no attributes, one file node: as version 1, then links 2 and device 9
        let bytes = Tree(nodes: [file("a", links: 2, device: 9)]).encoded()
        #expect(Array(bytes.prefix(4)) == [2, 0, 1, 1])
        #expect(Array(bytes.suffix(2)) == [2, 9])
        #expect(Array(bytes[2..<(bytes.count - 2)]) == Array(Tree(nodes: [file("a")]).encoded().dropFirst()),
                "the node is a version 1 node followed by links and device")
    }

    @Test func version2RoundTripsAttributesLinksAndDevice() throws {
        let attributes = DirectoryAttributes(mode: 0o4755, uid: 1000, gid: 100, modified: FileTime(seconds: 1_000_000_000, nanoseconds: 999_999_999))
        let tree = Tree(nodes: [file("a", links: 3, device: UInt64.max), file("b"), file("c", links: 0)], attributes: attributes)
        let decoded = try Tree.decode(tree.encoded(), what: "t")
        #expect(decoded == tree)
        #expect(decoded.attributes == attributes)
        #expect(decoded.node(named: "a")?.links == 3 && decoded.node(named: "a")?.device == UInt64.max)
        #expect(decoded.node(named: "b")?.links == 1 && decoded.node(named: "b")?.device == 0)
    }

    @Test func version2RefusesAnUnknownAttributesFlagAndAnImpossibleTime() {
        var bytes = Tree(nodes: [], attributes: DirectoryAttributes(mode: 0o755, uid: 0, gid: 0, modified: FileTime(seconds: 0, nanoseconds: 0))).encoded()
        bytes[1] = 2
        #expect(throws: MalformedData.self) { _ = try Tree.decode(bytes, what: "t") }
        // nanoseconds 10⁹ (varint 80 94 eb dc 03)
        #expect(throws: MalformedData.self) { _ = try Tree.decode([2, 1, 0, 0, 0, 0, 0x80, 0x94, 0xeb, 0xdc, 0x03, 0], what: "t") }
    }

    @Test func aBackupRecordsTheSourceRootsAttributesAndARestoreGivesThemToTheTarget() throws {
        let source = try fixture.directory("source")
        try FileSystem.writeAtomically(Array("x".utf8), to: "\(source)/x")
        guard chmod(source, 0o751) == 0 else { throw SystemError("chmod", source) }
        try SampleTree.setTime(source, seconds: 1_000_000_000, nanoseconds: 123_456_789)
        let repository = try fixture.repository("acme")
        let result = try fixture.backup(repository, source: source)
        let root = try repository.loadTree(try #require(result.snapshot.treeID))
        #expect(root.attributes == DirectoryAttributes(
            mode: 0o751, uid: getuid(), gid: getgid(), modified: FileTime(seconds: 1_000_000_000, nanoseconds: 123_456_789)))

        let target = "\(fixture.root)/restored"
        _ = try Restorer(repository: try fixture.repository("acme")).restore(result.snapshot, options: .init(target: target))
        let info = try #require(try FileSystem.status(target))
        #expect(info.st_mode & 0o7777 == 0o751)
        #expect(info.st_mtim.tv_sec == 1_000_000_000 && info.st_mtim.tv_nsec == 123_456_789)

        // A restore of one path leaves the target as it was made: it stands for no directory.
        let one = "\(fixture.root)/one"
        _ = try Restorer(repository: try fixture.repository("acme")).restore(result.snapshot, options: .init(target: one, subpath: "x"))
        #expect(try #require(try FileSystem.status(one)).st_mode & 0o7777 == 0o700)
    }

    @Test func aRootMadeOfNamedSourcesHasNoAttributes() throws {
        let source = try fixture.directory("source")
        try FileSystem.writeAtomically(Array("x".utf8), to: "\(source)/x")
        let repository = try fixture.repository("acme")
        let options = Archiver.Options(host: "h", time: Date(), program: "tests", temporaryDirectory: "\(fixture.root)/tmp")
        let result = try Archiver(repository: repository, options: options)
            .backup(sources: [TenantSource(kind: .directory, location: source, name: "files")], parent: nil)
        #expect(try repository.loadTree(try #require(result.snapshot.treeID)).attributes == nil)
    }

    /// A snapshot as version 1 wrote it, its trees spelled out byte by byte (the layout of
    /// docs/format.md before version 2): a directory `d` (0750, time 2) holding a file `f`
    /// (0640, time 1, "hello\n") and a link `l` to `f`.
    @Test func aSnapshotOfVersion1TreesStillRestores() throws {
        let repository = try fixture.repository("acme")
        try repository.loadIndex()
        let writer = BlobWriter(repository: repository)
        let content = try Array("hello\n".utf8).withUnsafeBytes { try writer.save($0, type: .data) }
        let inner: [UInt8] = [1, 2]
            + [1, 0x66, 1, 0xa0, 0x03, 0, 0, 2, 0, 2, 0, 0, 6, 1] + content.bytes
            + [1, 0x6c, 3, 0xff, 0x03, 0, 0, 2, 0, 2, 0, 0, 1, 0x66]
        let innerID = try inner.withUnsafeBytes { try writer.save($0, type: .tree) }
        let outer: [UInt8] = [1, 1] + [1, 0x64, 2, 0xe8, 0x03, 0, 0, 4, 0, 4, 0, 0] + innerID.bytes
        let outerID = try outer.withUnsafeBytes { try writer.save($0, type: .tree) }
        _ = try writer.commit()
        let snapshot = Snapshot(tenant: "acme", time: "2026-01-01T00:00:00Z", tree: outerID.hex, parent: nil, host: "h",
                                sources: ["dir:/old"], program: "lethe 0.1.0", summary: BackupSummary())
        #expect(try Tree.decode(outer, what: "t").attributes == nil)

        let target = "\(fixture.root)/restored"
        let summary = try Restorer(repository: try fixture.repository("acme")).restore(snapshot, options: .init(target: target))
        #expect(summary.files == 1 && summary.symlinks == 1 && summary.directories == 1)
        #expect(try FileSystem.readFile("\(target)/d/f") == Array("hello\n".utf8))
        #expect(SampleTree.linkTarget("\(target)/d/l") == "f")
        let file = try #require(try FileSystem.status("\(target)/d/f")), directory = try #require(try FileSystem.status("\(target)/d"))
        #expect(file.st_mode & 0o7777 == 0o640 && file.st_mtim.tv_sec == 1 && file.st_nlink == 1)
        #expect(directory.st_mode & 0o7777 == 0o750 && directory.st_mtim.tv_sec == 2)
        #expect(try #require(try FileSystem.status(target)).st_mode & 0o7777 == 0o700, "no root attributes: the target as made")
    }
}
