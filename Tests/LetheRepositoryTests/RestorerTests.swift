import Foundation
import Glibc
import LetheStore
import Testing
@testable import LetheRepository

@Suite struct RestorerTests {
    let fixture = try! RepositoryFixture()

    /// A sample tree, backed up once.
    func backedUp() throws -> (source: String, result: Archiver.Result) {
        let source = try fixture.directory("source")
        try SampleTree.make(at: source)
        return (source, try fixture.backup(try fixture.repository("acme"), source: source))
    }

    func restore(_ snapshot: Snapshot, to target: String, subpath: String? = nil, force: Bool = false) throws -> Restorer.Summary {
        try Restorer(repository: try fixture.repository("acme"))
            .restore(snapshot, options: Restorer.Options(target: target, subpath: subpath, allowNonEmptyTarget: force))
    }

    @Test func restoreReproducesContentsModesTimesLinksAndEmptyDirectories() throws {
        let (source, result) = try backedUp()
        let target = "\(fixture.root)/restored"
        let summary = try restore(result.snapshot, to: target)
        #expect(SampleTree.differences(source, target) == [])
        #expect(summary.files == SampleTree.files.count)
        #expect(summary.symlinks == SampleTree.links.count)
        #expect(summary.directories == SampleTree.directories.count)
        #expect(summary.bytes == SampleTree.totalBytes)
        // Spot checks, independent of the comparison helper.
        #expect(try FileSystem.readFile("\(target)/big.bin") == testBytes(SampleTree.bigFileSize, seed: 8))
        #expect(SampleTree.linkTarget("\(target)/dangling") == "/nonexistent/zïel")
        #expect(FileSystem.isDirectory("\(target)/empty dir"))
        #expect(try FileSystem.listDirectory("\(target)/empty dir").isEmpty)
        let info = try #require(try FileSystem.status("\(target)/docs/ünïcødé — 日本.txt"))
        #expect(info.st_mode & 0o7777 == 0o600)
        #expect(info.st_mtim.tv_sec == 1_600_000_000 + 86_400 && info.st_mtim.tv_nsec == 123_456_790)
        #expect(permissions("\(target)/docs/nested") == 0o750)
    }

    @Test func restoreLeavesNoTemporaryFiles() throws {
        let (_, result) = try backedUp()
        let target = "\(fixture.root)/restored"
        _ = try restore(result.snapshot, to: target)
        let names = FileManager.default.subpaths(atPath: target) ?? []
        #expect(!names.contains { $0.contains(".lethe-restore-") })
    }

    @Test func aNonEmptyTargetIsRefusedWithoutForce() throws {
        let (_, result) = try backedUp()
        let target = try fixture.directory("occupied")
        try FileSystem.writeAtomically(Array("mine".utf8), to: "\(target)/run.sh")
        let error = #expect(throws: LetheError.self) { _ = try restore(result.snapshot, to: target) }
        #expect(error?.kind == .usage)
        #expect(try FileSystem.listDirectory(target) == ["run.sh"], "nothing was written")
        #expect(try FileSystem.readFile("\(target)/run.sh") == Array("mine".utf8))
    }

    @Test func aTargetThatIsAFileIsRefused() throws {
        let (_, result) = try backedUp()
        let target = "\(fixture.root)/a-file"
        try FileSystem.writeAtomically([1], to: target)
        let error = #expect(throws: LetheError.self) { _ = try restore(result.snapshot, to: target) }
        #expect(error?.kind == .usage)
    }

    @Test func forceReplacesSameNamedFilesAndKeepsOthers() throws {
        let (source, result) = try backedUp()
        let target = try fixture.directory("occupied")
        try FileSystem.writeAtomically(Array("mine".utf8), to: "\(target)/run.sh")
        try FileSystem.writeAtomically(Array("keep".utf8), to: "\(target)/unrelated")
        try FileSystem.writeAtomically(Array("a file where a link goes".utf8), to: "\(target)/link")
        _ = try restore(result.snapshot, to: target, force: true)
        #expect(try FileSystem.readFile("\(target)/run.sh") == Array("#!/bin/sh\necho hi\n".utf8))
        #expect(permissions("\(target)/run.sh") == 0o755)
        #expect(try FileSystem.readFile("\(target)/unrelated") == Array("keep".utf8))
        #expect(SampleTree.linkTarget("\(target)/link") == "docs/report.txt")
        try FileSystem.removeFile("\(target)/unrelated")
        #expect(SampleTree.differences(source, target) == [])
    }

    @Test func aSubpathRestoresOnlyThatPart() throws {
        let (source, result) = try backedUp()
        let target = "\(fixture.root)/partial"
        let summary = try restore(result.snapshot, to: target, subpath: "docs/nested")
        #expect(try FileSystem.listDirectory(target) == ["docs"])
        #expect(try FileSystem.listDirectory("\(target)/docs") == ["nested"])
        #expect(SampleTree.differences("\(source)/docs/nested", "\(target)/docs/nested") == [])
        #expect(summary.files == 1)

        let single = "\(fixture.root)/single"
        _ = try restore(result.snapshot, to: single, subpath: "docs/report.txt")
        #expect(try FileSystem.readFile("\(single)/docs/report.txt") == Array("quarterly report\n".utf8))
    }

    @Test func aSubpathThatIsNotInTheSnapshotIsAUsageError() throws {
        let (_, result) = try backedUp()
        for subpath in ["nope", "docs/nope", "run.sh/inside"] {
            let error = #expect(throws: LetheError.self, "\(subpath)") {
                _ = try restore(result.snapshot, to: "\(fixture.root)/t-\(UUID().uuidString)", subpath: subpath)
            }
            #expect(error?.kind == .usage)
        }
    }

    @Test func aDamagedDataBlobFailsTheRestoreAndLeavesNoPartialFile() throws {
        let (_, result) = try backedUp()
        let big = try #require(result.newIndex.packs.flatMap(\.entries).first { $0.location.plainLength >= Chunker.minimumSize })
        try fixture.flip(Layout.pack(try TenantID("acme"), big.location.pack), at: big.location.offset + 100)
        let target = "\(fixture.root)/restored"
        let error = #expect(throws: IntegrityViolation.self) { _ = try restore(result.snapshot, to: target) }
        #expect(error?.object == Layout.pack(try TenantID("acme"), big.location.pack))
        #expect(!FileSystem.exists("\(target)/big.bin"), "a file under its real name is whole")
        let names = FileManager.default.subpaths(atPath: target) ?? []
        #expect(!names.contains { $0.contains(".lethe-restore-") })
    }
}
