import Foundation
import Glibc
import LetheStore
import Testing
@testable import LetheRepository

@Suite struct ArchiverTests {
    let fixture = try! RepositoryFixture()

    func sample() throws -> String {
        let source = try fixture.directory("source")
        try SampleTree.make(at: source)
        return source
    }

    /// A source of one small file.
    func small() throws -> String {
        let source = try fixture.directory("small")
        try FileSystem.writeAtomically(Array("x".utf8), to: "\(source)/x")
        return source
    }

    @Test func theFirstBackupReadsAndStoresEveryFile() throws {
        let source = try sample()
        let repository = try fixture.repository("acme")
        let result = try fixture.backup(repository, source: source)
        let summary = result.snapshot.summary
        #expect(summary.errors == [])
        #expect(summary.filesNew == SampleTree.files.count)
        #expect(summary.filesChanged == 0 && summary.filesUnchanged == 0)
        #expect(summary.directories == SampleTree.directories.count)
        #expect(summary.bytesTotal == SampleTree.totalBytes)
        #expect(summary.bytesRead == SampleTree.totalBytes)
        #expect(summary.bytesAdded >= SampleTree.totalBytes, "file contents plus trees")
        #expect(summary.packsWritten >= 2, "20 MiB do not fit one 16 MiB pack")
        #expect(result.newIndexID != nil)

        let stored = try fixture.repository("acme").loadSnapshot(result.snapshotID)
        #expect(stored.tenant == "acme" && stored.tree == result.snapshot.tree && stored.parent == nil)
        #expect(stored.sources == ["dir:\(source)"])
        let root = try repository.loadTree(try #require(stored.treeID))
        #expect(root.nodes.map(\.name) == ["big.bin", "dangling", "docs", "empty dir", "empty-file", "link", "run.sh"])
        #expect(root.node(named: "link")?.target == "docs/report.txt")
        #expect(root.node(named: "big.bin")?.content.count ?? 0 > 2)
        #expect(root.node(named: "empty-file")?.content == [])
        #expect(root.node(named: "run.sh")?.mode == 0o755)
        #expect(root.node(named: "run.sh")?.modified == FileTime(seconds: 1_600_000_000 + 5 * 86_400, nanoseconds: 123_456_794))
    }

    @Test func aSecondBackupWithTheFirstAsParentReadsNothing() throws {
        let source = try sample()
        let repository = try fixture.repository("acme")
        let first = try fixture.backup(repository, source: source)
        let second = try fixture.backup(try fixture.repository("acme"), source: source, parent: first)
        let summary = second.snapshot.summary
        #expect(summary.filesUnchanged == SampleTree.files.count)
        #expect(summary.filesNew == 0 && summary.filesChanged == 0)
        #expect(summary.bytesRead == 0)
        #expect(summary.bytesTotal == SampleTree.totalBytes)
        #expect(summary.blobsAdded == 0 && summary.packsWritten == 0 && second.newIndexID == nil)
        #expect(second.snapshot.tree == first.snapshot.tree, "same content, same root tree")
        #expect(second.snapshot.parent == first.snapshotID.hex)
        #expect(Timestamp.parse(second.snapshot.time)! > Timestamp.parse(first.snapshot.time)!)
    }

    @Test func afterModifyingOneFileOnlyThatFileIsRead() throws {
        let source = try sample()
        let first = try fixture.backup(try fixture.repository("acme"), source: source)
        let changed = Array("#!/bin/sh\necho changed\n".utf8)
        try FileSystem.writeAtomically(changed, to: "\(source)/run.sh", mode: 0o755)
        let second = try fixture.backup(try fixture.repository("acme"), source: source, parent: first)
        let summary = second.snapshot.summary
        #expect(summary.filesChanged == 1)
        #expect(summary.filesUnchanged == SampleTree.files.count - 1)
        #expect(summary.filesNew == 0)
        #expect(summary.bytesRead == changed.count)
        #expect(second.snapshot.tree != first.snapshot.tree)
    }

    @Test func aFileWithTheSameSizeAndMtimeButANewInodeIsReadAgain() throws {
        let source = try sample()
        let first = try fixture.backup(try fixture.repository("acme"), source: source)
        // Replace report.txt by a file of the same size and time (a new inode, as `cp -p` makes).
        let replacement = Array("QUARTERLY REPORT\n".utf8)
        try FileSystem.writeAtomically(replacement, to: "\(source)/docs/report.txt", mode: 0o640)
        try SampleTree.setTime("\(source)/docs/report.txt", seconds: 1_600_000_000, nanoseconds: 123_456_789)
        let second = try fixture.backup(try fixture.repository("acme"), source: source, parent: first)
        #expect(second.snapshot.summary.filesChanged == 1)
        #expect(second.snapshot.summary.bytesRead == replacement.count)
    }

    @Test func aNewFileIsCountedAsNew() throws {
        let source = try sample()
        let first = try fixture.backup(try fixture.repository("acme"), source: source)
        try FileSystem.writeAtomically([1, 2, 3], to: "\(source)/empty dir/now-full")
        let second = try fixture.backup(try fixture.repository("acme"), source: source, parent: first)
        #expect(second.snapshot.summary.filesNew == 1)
        #expect(second.snapshot.summary.filesUnchanged == SampleTree.files.count)
        #expect(second.snapshot.summary.bytesRead == 3)
    }

    @Test func withoutAParentEverythingIsReadButNothingIsStoredTwice() throws {
        let source = try sample()
        _ = try fixture.backup(try fixture.repository("acme"), source: source)
        let again = try fixture.backup(try fixture.repository("acme"), source: source)
        #expect(again.snapshot.summary.filesNew == SampleTree.files.count)
        #expect(again.snapshot.summary.bytesRead == SampleTree.totalBytes)
        #expect(again.snapshot.summary.blobsAdded == 0 && again.snapshot.summary.bytesAdded == 0)
        #expect(again.newIndexID == nil)
    }

    /// The clock may be coarse, stepped back or fixed (LETHE_NOW): a child snapshot must still
    /// sort strictly after its parent.
    @Test(arguments: ["2026-11-23T03:39:09.004Z", "2026-11-23T03:39:09.009Z", "2026-11-23T03:39:09.500Z"])
    func aSnapshotIsAlwaysLaterThanItsParent(_ parentTime: String) throws {
        let source = try small()
        let first = try fixture.backup(try fixture.repository("acme"), source: source)
        var parent = first.snapshot
        parent.time = parentTime
        let options = Archiver.Options(
            host: "h", time: Date(timeIntervalSince1970: 0), program: "p", temporaryDirectory: "\(fixture.root)/tmp")
        let second = try Archiver(repository: try fixture.repository("acme"), options: options)
            .backup(sources: [TenantSource(kind: .directory, location: source)], parent: (first.snapshotID, parent))
        let child = try #require(Timestamp.parse(second.snapshot.time))
        #expect(child > Timestamp.parse(parentTime)!, "parent \(parentTime), child \(second.snapshot.time)")
    }

    @Test func twoSourcesWithTheSameRootNameAreAUsageError() throws {
        let a = try fixture.directory("a")
        let b = try fixture.directory("b")
        let archiver = Archiver(repository: try fixture.repository("acme"), options: Archiver.Options(
            host: "h", time: Date(), program: "p", temporaryDirectory: "\(fixture.root)/tmp"))
        let error = #expect(throws: LetheError.self) {
            _ = try archiver.backup(sources: [
                TenantSource(kind: .directory, location: a, name: "x"), TenantSource(kind: .directory, location: b, name: "x"),
            ], parent: nil)
        }
        #expect(error?.kind == .usage)
    }

    @Test func aMissingSourceDirectoryFailsTheBackup() throws {
        let error = #expect(throws: LetheError.self) {
            _ = try fixture.backup(try fixture.repository("acme"), source: "\(fixture.root)/does-not-exist")
        }
        #expect(error?.kind == .failed)
    }

    /// Linux file names are bytes: "café" spelled with U+00E9 (NFC) and with "e" + U+0301
    /// (NFD) are two different files, though Swift's `String ==` calls them equal.
    @Test func namesThatDifferOnlyInUnicodeNormalizationAreTwoFilesAtTheRoot() throws {
        let source = try fixture.directory("source")
        try FileSystem.writeAtomically([1], to: "\(source)/caf\u{E9}")
        try FileSystem.writeAtomically([2, 2], to: "\(source)/cafe\u{301}")
        #expect(try FileSystem.listDirectory(source).count == 2)
        let result = try fixture.backup(try fixture.repository("acme"), source: source)
        #expect(result.snapshot.summary.filesNew == 2)
    }

    @Test func namesThatDifferOnlyInUnicodeNormalizationAreComparedWithTheirOwnPrevious() throws {
        let source = try fixture.directory("source")
        try FileSystem.makeDirectories("\(source)/sub")
        try FileSystem.writeAtomically([1], to: "\(source)/sub/caf\u{E9}")
        try FileSystem.writeAtomically([2, 2], to: "\(source)/sub/cafe\u{301}")
        let first = try fixture.backup(try fixture.repository("acme"), source: source)
        #expect(first.snapshot.summary.filesNew == 2)
        let second = try fixture.backup(try fixture.repository("acme"), source: source, parent: first)
        #expect(second.snapshot.summary.filesUnchanged == 2, "\(second.snapshot.summary)")
        #expect(second.snapshot.summary.bytesRead == 0)
    }
}
