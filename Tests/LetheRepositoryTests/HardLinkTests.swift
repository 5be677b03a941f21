import Foundation
import Glibc
import LetheStore
import Testing
@testable import LetheRepository

/// Files with several names in one source are backed up once, as nodes that say so, and
/// restored as one inode with those names again.
@Suite struct HardLinkTests {
    let fixture = try! RepositoryFixture()

    /// `one` with the names a, sub/b and sub/c; `two` with x and sub/y; `single` alone.
    func linkedSource() throws -> String {
        let source = try fixture.directory("source")
        try FileSystem.makeDirectories("\(source)/sub")
        try FileSystem.writeAtomically(testBytes(100_000, seed: 3), to: "\(source)/a", mode: 0o640)
        try FileSystem.writeAtomically(Array("two\n".utf8), to: "\(source)/x", mode: 0o600)
        try FileSystem.writeAtomically(Array("single\n".utf8), to: "\(source)/single")
        for (existing, new) in [("a", "sub/b"), ("a", "sub/c"), ("x", "sub/y")] {
            guard link("\(source)/\(existing)", "\(source)/\(new)") == 0 else { throw SystemError("link", new) }
        }
        return source
    }

    func status(_ path: String) throws -> stat {
        try #require(try FileSystem.status(path))
    }

    @Test func aFileWithSeveralNamesIsReadOnceAndItsNodesSayTheyAreOneFile() throws {
        let source = try linkedSource()
        let repository = try fixture.repository("acme")
        let result = try fixture.backup(repository, source: source)
        #expect(result.snapshot.summary.bytesRead == 100_000 + 4 + 7, "each file read once, whatever its names")
        #expect(result.snapshot.summary.filesNew == 6)
        let root = try repository.loadTree(try #require(result.snapshot.treeID))
        let sub = try repository.loadTree(try #require(root.node(named: "sub")?.subtree))
        let a = try #require(root.node(named: "a")), b = try #require(sub.node(named: "b")), c = try #require(sub.node(named: "c"))
        let info = try status("\(source)/a")
        #expect(a.links == 3 && a.device == UInt64(info.st_dev) && a.inode == UInt64(info.st_ino))
        let y = try #require(sub.node(named: "y"))
        #expect(b.isHardLink(of: a) && c.isHardLink(of: a) && !y.isHardLink(of: a))
        #expect(root.node(named: "single")?.links == 1 && root.node(named: "single")?.device == 0)
    }

    @Test func aRestoreMakesTheNamesLinksOfOneInodeWithTheFilesMetadata() throws {
        let source = try linkedSource()
        let result = try fixture.backup(try fixture.repository("acme"), source: source)
        let target = "\(fixture.root)/restored"
        let summary = try Restorer(repository: try fixture.repository("acme")).restore(result.snapshot, options: .init(target: target))
        #expect(summary.files == 6 && summary.bytes == 3 * 100_000 + 2 * 4 + 7)
        let a = try status("\(target)/a"), b = try status("\(target)/sub/b"), c = try status("\(target)/sub/c")
        #expect(a.st_ino == b.st_ino && b.st_ino == c.st_ino && a.st_nlink == 3)
        #expect(a.st_mode & 0o7777 == 0o640)
        #expect(a.st_mtim.tv_sec == (try status("\(source)/a")).st_mtim.tv_sec)
        #expect(try FileSystem.readFile("\(target)/sub/c") == testBytes(100_000, seed: 3))
        let x = try status("\(target)/x"), y = try status("\(target)/sub/y")
        #expect(x.st_ino == y.st_ino && x.st_nlink == 2 && x.st_ino != a.st_ino)
        #expect(try status("\(target)/single").st_nlink == 1)
        let names = FileManager.default.subpaths(atPath: target) ?? []
        #expect(!names.contains { $0.contains(".lethe-restore-") })
    }

    @Test func aRestoreOfOneDirectoryWritesTheFirstNameItHolds() throws {
        let source = try linkedSource()
        let result = try fixture.backup(try fixture.repository("acme"), source: source)
        let target = "\(fixture.root)/restored"
        let options = Restorer.Options(target: target, subpath: "sub")
        _ = try Restorer(repository: try fixture.repository("acme")).restore(result.snapshot, options: options)
        let b = try status("\(target)/sub/b"), c = try status("\(target)/sub/c")
        #expect(b.st_ino == c.st_ino && b.st_nlink == 2)
        #expect(try FileSystem.readFile("\(target)/sub/b") == testBytes(100_000, seed: 3))
        #expect(try status("\(target)/sub/y").st_nlink == 1)
    }

    @Test func forceRestoringOverAnEarlierRestoreKeepsTheLinksAndLeavesNoTemporaryName() throws {
        let source = try linkedSource()
        let result = try fixture.backup(try fixture.repository("acme"), source: source)
        let target = "\(fixture.root)/restored"
        let restorer = Restorer(repository: try fixture.repository("acme"))
        _ = try restorer.restore(result.snapshot, options: .init(target: target))
        _ = try restorer.restore(result.snapshot, options: .init(target: target, allowNonEmptyTarget: true))
        let a = try status("\(target)/a"), b = try status("\(target)/sub/b")
        #expect(a.st_ino == b.st_ino && a.st_nlink == 3)
        #expect(!(FileManager.default.subpaths(atPath: target) ?? []).contains { $0.contains(".lethe-restore-") })
    }

    @Test func aFirstNameReplacedBeforeItsLinksAreMadeStopsTheRestore() throws {
        let source = try linkedSource()
        try FileSystem.writeAtomically(Array("last\n".utf8), to: "\(source)/z")
        let result = try fixture.backup(try fixture.repository("acme"), source: source)
        let target = "\(fixture.root)/restored"
        var options = Restorer.Options(target: target)
        // "a" is handed to a worker before "z" (plan order); once it stands under its name,
        // someone puts another file there, before the links to it are made.
        options.beforeWritingFile = { path in
            guard path == "z" else { return }
            for _ in 0..<10_000 where (try? FileSystem.status("\(target)/a")) == nil { usleep(1000) }
            try FileSystem.writeAtomically(Array("planted\n".utf8), to: "\(target)/a")
        }
        let error = #expect(throws: LetheError.self) {
            _ = try Restorer(repository: try fixture.repository("acme")).restore(result.snapshot, options: options)
        }
        #expect(error?.description.contains("\(target)/a was replaced while the restore ran") == true)
        #expect(try FileSystem.status("\(target)/sub/b") == nil, "no link to the planted file")
        #expect(!(FileManager.default.subpaths(atPath: target) ?? []).contains { $0.contains(".lethe-restore-") })
    }

    @Test func nodesOnOneInodeThatDifferInContentAreWrittenAsTwoFiles() throws {
        // An inode reused between two reads, as a tree could say: same device and inode,
        // several links, another content. Each is written with its own content.
        let repository = try fixture.repository("acme")
        let writer = BlobWriter(repository: repository)
        try repository.loadIndex()
        func file(_ name: String, _ text: String) throws -> Node {
            let id = try Array(text.utf8).withUnsafeBytes { try writer.save($0, type: .data) }
            return Node(name: name, kind: .file, mode: 0o644, modified: FileTime(seconds: 1, nanoseconds: 0),
                        changed: FileTime(seconds: 1, nanoseconds: 0), inode: 42, size: text.utf8.count, content: [id],
                        links: 2, device: 7)
        }
        let tree = Tree(nodes: [try file("p", "old\n"), try file("q", "new!\n")])
        let treeID = try tree.encoded().withUnsafeBytes { try writer.save($0, type: .tree) }
        _ = try writer.commit()
        let snapshot = Snapshot(tenant: "acme", time: "2026-01-01T00:00:00Z", tree: treeID.hex, parent: nil, host: "h",
                                sources: [], program: "tests", summary: BackupSummary())
        let target = "\(fixture.root)/restored"
        _ = try Restorer(repository: try fixture.repository("acme")).restore(snapshot, options: .init(target: target))
        #expect(try FileSystem.readFile("\(target)/p") == Array("old\n".utf8))
        #expect(try FileSystem.readFile("\(target)/q") == Array("new!\n".utf8))
        #expect(try status("\(target)/p").st_ino != (try status("\(target)/q")).st_ino)
    }
}
