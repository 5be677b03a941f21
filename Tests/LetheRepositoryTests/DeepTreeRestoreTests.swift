import Foundation
import Glibc
import LetheStore
import Testing
@testable import LetheRepository

/// A restore of 4,000 directories nested in one another: deeper than any path can reach
/// (PATH_MAX is 4096 bytes), so it works only relative to open directories, and deep enough
/// that holding every level open would show. (Deeper costs little in the restore, but the
/// clean-up removes one directory per millisecond or so on the test machines.)
@Suite struct DeepTreeRestoreTests {
    let fixture = try! RepositoryFixture()
    static let depth = 4_000
    static let fileEvery = 400
    static let content = Array("deep\n".utf8)

    /// A snapshot of `depth` directories `d/d/d/…` with a file `f` in every `fileEvery`-th,
    /// written straight into the repository: the archiver reads paths, which cannot go this
    /// deep.
    func deepSnapshot() throws -> Snapshot {
        let repository = try fixture.repository("acme")
        try repository.loadIndex()
        let writer = BlobWriter(repository: repository)
        let time = FileTime(seconds: 1_500_000_000, nanoseconds: 250)
        let contentID = try DeepTreeRestoreTests.content.withUnsafeBytes { try writer.save($0, type: .data) }
        var below: BlobID?
        // The tree at `level` lists the directory that deep; level 0 is the snapshot's root.
        for level in stride(from: DeepTreeRestoreTests.depth, through: 0, by: -1) {
            var nodes: [Node] = []
            if let below { nodes.append(Node(name: "d", kind: .directory, mode: 0o750, modified: time, changed: time, subtree: below)) }
            if level > 0, level % DeepTreeRestoreTests.fileEvery == 0 {
                nodes.append(Node(
                    name: "f", kind: .file, mode: 0o640, modified: time, changed: time,
                    size: DeepTreeRestoreTests.content.count, content: [contentID]))
            }
            below = try Tree(nodes: nodes).encoded().withUnsafeBytes { try writer.save($0, type: .tree) }
        }
        try writer.commit()
        return Snapshot(
            tenant: "acme", time: "2024-01-01T00:00:00Z", tree: below!.hex, parent: nil, host: "test-host", sources: [],
            program: "lethe-tests", summary: BackupSummary())
    }

    @Test func aTreeDeeperThanAnyPathIsRestoredWithFewDescriptorsOpen() throws {
        let snapshot = try deepSnapshot()
        let target = "\(fixture.root)/restored"
        let mostOpen = Maximum()
        var options = Restorer.Options(target: target)
        // Each file is written from where the worker's previous one was, so a walk that kept
        // every level open would hold 400 more descriptors for each file already written.
        options.beforeWritingFile = { _ in mostOpen.record((try? FileSystem.listDirectory("/proc/self/fd").count) ?? 0) }
        let summary = try Restorer(repository: try fixture.repository("acme")).restore(snapshot, options: options)
        #expect(summary.directories == DeepTreeRestoreTests.depth)
        #expect(summary.files == DeepTreeRestoreTests.depth / DeepTreeRestoreTests.fileEvery)
        #expect(mostOpen.value < 500, "descriptors open while writing files: \(mostOpen.value)")

        var directory = try DirectoryHandle(path: target)
        var files = 0
        for _ in 1...DeepTreeRestoreTests.depth {
            let info = try #require(try directory.status(of: "d"))
            #expect(info.st_mode & 0o7777 == 0o750 && info.st_mtim.tv_sec == 1_500_000_000 && info.st_mtim.tv_nsec == 250)
            directory = try directory.openDirectory("d")
            if let file = try directory.status(of: "f") {
                files += 1
                #expect(file.st_size == DeepTreeRestoreTests.content.count && file.st_mode & 0o7777 == 0o640)
            }
        }
        #expect(files == summary.files)
        #expect(try directory.status(of: "d") == nil)
        try removeUpwards(from: directory, levels: DeepTreeRestoreTests.depth)
    }

    /// Removes the chain from its bottom, climbing through `..`: by path it is too deep to
    /// remove, and the fixture's clean-up works by path.
    func removeUpwards(from bottom: DirectoryHandle, levels: Int) throws {
        var directory = bottom
        for _ in 0..<levels {
            if try directory.status(of: "f") != nil { try directory.remove("f") }
            let parent = try directory.openParent()
            try parent.removeDirectory("d")
            directory = parent
        }
    }
}

/// The largest value recorded, from any thread.
final class Maximum: @unchecked Sendable {
    private let lock = NSLock()
    private var largest = 0

    var value: Int { lock.withLock { largest } }

    func record(_ value: Int) {
        lock.withLock { largest = max(largest, value) }
    }
}
