import Foundation
import Glibc
import LetheStore
import Testing
@testable import LetheRepository

@Suite struct RestorerTests {
    let fixture = try! RepositoryFixture()

    /// A sample tree, backed up once; `small` leaves out its 20 MiB file.
    func backedUp(small: Bool = false) throws -> (source: String, result: Archiver.Result) {
        let source = try fixture.directory("source")
        try SampleTree.make(at: source, withBigFile: !small)
        return (source, try fixture.backup(try fixture.repository("acme"), source: source))
    }

    func restore(
        _ snapshot: Snapshot, to target: String, subpath: String? = nil, force: Bool = false,
        beforeWritingFile: (@Sendable (String) throws -> Void)? = nil
    ) throws -> Restorer.Summary {
        var options = Restorer.Options(target: target, subpath: subpath, allowNonEmptyTarget: force)
        options.beforeWritingFile = beforeWritingFile
        return try Restorer(repository: try fixture.repository("acme")).restore(snapshot, options: options)
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
        let (_, result) = try backedUp(small: true)
        let target = try fixture.directory("occupied")
        try FileSystem.writeAtomically(Array("mine".utf8), to: "\(target)/run.sh")
        let error = #expect(throws: LetheError.self) { _ = try restore(result.snapshot, to: target) }
        #expect(error?.kind == .usage)
        #expect(try FileSystem.listDirectory(target) == ["run.sh"], "nothing was written")
        #expect(try FileSystem.readFile("\(target)/run.sh") == Array("mine".utf8))
    }

    @Test func aTargetThatIsAFileIsRefused() throws {
        let (_, result) = try backedUp(small: true)
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
        let (source, result) = try backedUp(small: true)
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
        let (_, result) = try backedUp(small: true)
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

    @Test func setuidSetgidAndStickyBitsAreRestored() throws {
        let source = try fixture.directory("special")
        try FileSystem.writeAtomically(Array("#!/bin/sh\n".utf8), to: "\(source)/tool", mode: 0o4750)
        try FileSystem.makeDirectories("\(source)/shared")
        #expect(chmod("\(source)/shared", 0o1777) == 0)
        let result = try fixture.backup(try fixture.repository("acme"), source: source)
        let target = "\(fixture.root)/restored"
        _ = try restore(result.snapshot, to: target)
        #expect(permissions("\(target)/tool") == 0o4750)
        #expect(permissions("\(target)/shared") == 0o1777)
    }

    @Test(.enabled(if: geteuid() == 0, "only root can give files away"))
    func ownersOfFilesDirectoriesAndLinksAreRestoredAsRoot() throws {
        let source = try fixture.directory("owned")
        try FileSystem.writeAtomically([1], to: "\(source)/file")
        try FileSystem.makeDirectories("\(source)/directory")
        #expect(symlink("file", "\(source)/link") == 0)
        for name in ["file", "directory", "link"] { #expect(lchown("\(source)/\(name)", 4321, 8765) == 0) }
        let result = try fixture.backup(try fixture.repository("acme"), source: source)
        let target = "\(fixture.root)/restored"
        _ = try restore(result.snapshot, to: target)
        for name in ["file", "directory", "link"] {
            let info = try #require(try FileSystem.status("\(target)/\(name)"))
            #expect(info.st_uid == 4321 && info.st_gid == 8765, "\(name)")
        }
    }

    // MARK: Plan, then execute

    @Test func aPlanCountsWhatTheRestoreWritesAndWritesNothing() throws {
        let (source, result) = try backedUp()
        let target = "\(fixture.root)/planned"
        let restorer = Restorer(repository: try fixture.repository("acme"))
        let plan = try restorer.plan(result.snapshot, options: Restorer.Options(target: target))
        #expect(plan.files == SampleTree.files.count)
        #expect(plan.directories == SampleTree.directories.count)
        #expect(plan.symlinks == SampleTree.links.count)
        #expect(plan.bytes == SampleTree.totalBytes)
        #expect(!FileSystem.exists(target), "not even the target is created")
        let summary = try restorer.execute(plan)
        #expect(summary == Restorer.Summary(files: plan.files, directories: plan.directories, symlinks: plan.symlinks, bytes: plan.bytes))
        #expect(SampleTree.differences(source, target) == [])
    }

    @Test func aPlanOfASubpathCountsOnlyThatPart() throws {
        let (_, result) = try backedUp(small: true)
        let plan = try Restorer(repository: try fixture.repository("acme"))
            .plan(result.snapshot, options: Restorer.Options(target: "\(fixture.root)/partial", subpath: "docs/nested"))
        #expect(plan.files == 1 && plan.directories == 3 && plan.symlinks == 0 && plan.bytes == 3000)
    }

    @Test func executeChecksTheTargetAgain() throws {
        let (_, result) = try backedUp(small: true)
        let target = try fixture.directory("filled-later")
        let restorer = Restorer(repository: try fixture.repository("acme"))
        let plan = try restorer.plan(result.snapshot, options: Restorer.Options(target: target))
        try FileSystem.writeAtomically(Array("arrived meanwhile".utf8), to: "\(target)/run.sh")
        let error = #expect(throws: LetheError.self) { _ = try restorer.execute(plan) }
        #expect(error?.kind == .usage)
        #expect(try FileSystem.listDirectory(target) == ["run.sh"])
    }

    // MARK: Nothing written outside the target

    @Test(arguments: [
        ("docs", "docs/nested/deeper/leaf.bin"), ("docs", "docs/report.txt"), ("docs/nested", "docs/nested/deeper/leaf.bin"),
    ])
    func aDirectorySwappedForALinkMidRestoreStopsItAndNothingIsWrittenOutside(swapped: String, when file: String) throws {
        let (_, result) = try backedUp(small: true)
        let outside = try OutsideDirectory(fixture.directory("outside"))
        let target = "\(fixture.root)/restored"
        let swap = Once()
        let error = #expect(throws: LetheError.self) {
            _ = try restore(result.snapshot, to: target) { path in
                guard path == file else { return }
                try swap.run {
                    try FileSystem.rename("\(target)/\(swapped)", to: "\(target)/\(swapped).moved")
                    guard symlink(outside.path, "\(target)/\(swapped)") == 0 else { throw SystemError("symlink", swapped) }
                }
            }
        }
        #expect(error?.kind == .failed)
        #expect(error?.message.contains("\(try realPath(target))/\(swapped) was replaced") == true, "\(error?.message ?? "")")
        #expect(try outside.isUnchanged())
    }

    @Test func aTargetThatIsALinkIsRefused() throws {
        let (_, result) = try backedUp(small: true)
        let outside = try OutsideDirectory(fixture.directory("outside"))
        let target = "\(fixture.root)/link-target"
        #expect(symlink(outside.path, target) == 0)
        let error = #expect(throws: LetheError.self) { _ = try restore(result.snapshot, to: target, force: true) }
        #expect(error?.kind == .usage)
        #expect(try outside.isUnchanged())
    }

    @Test func aTargetReachedThroughALinkedParentIsRestored() throws {
        let (source, result) = try backedUp(small: true)
        let real = try fixture.directory("real")
        #expect(symlink(real, "\(fixture.root)/via") == 0)
        _ = try restore(result.snapshot, to: "\(fixture.root)/via/restored")
        #expect(SampleTree.differences(source, "\(real)/restored") == [])
    }

    @Test func forceReplacesALinkWhereADirectoryBelongsInsteadOfFollowingIt() throws {
        let (source, result) = try backedUp(small: true)
        let outside = try OutsideDirectory(fixture.directory("outside"))
        let target = try fixture.directory("occupied")
        #expect(symlink(outside.path, "\(target)/docs") == 0)
        _ = try restore(result.snapshot, to: target, force: true)
        #expect(try FileSystem.status("\(target)/docs").map { $0.st_mode & S_IFMT } == S_IFDIR)
        #expect(SampleTree.differences(source, target) == [])
        #expect(try outside.isUnchanged())
    }

    @Test func forceReplacesALinkWhereAFileBelongsInsteadOfWritingThroughIt() throws {
        let (source, result) = try backedUp(small: true)
        let outside = try OutsideDirectory(fixture.directory("outside"))
        let target = try fixture.directory("occupied")
        #expect(symlink("\(outside.path)/keep", "\(target)/run.sh") == 0)
        _ = try restore(result.snapshot, to: target, force: true)
        #expect(try FileSystem.readFile("\(target)/run.sh") == Array("#!/bin/sh\necho hi\n".utf8))
        #expect(permissions("\(target)/run.sh") == 0o755)
        #expect(SampleTree.differences(source, target) == [])
        #expect(try outside.isUnchanged())
    }
}

/// A directory outside the restore target, holding one file, whose state is taken at creation
/// so that a test can tell whether a restore changed anything in it.
struct OutsideDirectory {
    let path: String
    private let state: [String]

    init(_ path: String) throws {
        self.path = path
        try FileSystem.writeAtomically(Array("not yours".utf8), to: "\(path)/keep", mode: 0o640)
        state = try OutsideDirectory.describe(path)
    }

    func isUnchanged() throws -> Bool { try OutsideDirectory.describe(path) == state }

    /// Names, modes, owners, times and contents of the directory and its entries.
    private static func describe(_ path: String) throws -> [String] {
        try ([""] + FileSystem.listDirectory(path).map { "/\($0)" }).map { name in
            var info = stat()
            guard lstat(path + name, &info) == 0 else { throw SystemError("lstat", path + name) }
            let bytes = (info.st_mode & S_IFMT) == S_IFREG ? try FileSystem.readFile(path + name) : []
            return "\(name) \(String(info.st_mode, radix: 8)) \(info.st_uid):\(info.st_gid) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(bytes)"
        }
    }
}

/// Runs a closure once, whichever thread asks first.
final class Once: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false

    func run(_ body: () throws -> Void) throws {
        try lock.withLock {
            guard !done else { return }
            done = true
            try body()
        }
    }
}

func realPath(_ path: String) throws -> String {
    guard let resolved = realpath(path, nil) else { throw SystemError("realpath", path) }
    defer { free(resolved) }
    return String(cString: resolved)
}
