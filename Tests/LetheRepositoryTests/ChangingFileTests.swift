import Foundation
import Glibc
import LetheStore
import Testing
@testable import LetheRepository

/// A file is read between two `fstat`s of its descriptor; one that moved is read again, and
/// one that moves again is stored with a warning. The hook appends to the file after a read,
/// before the second `fstat`, as a writer racing the backup would.
@Suite struct ChangingFileTests {
    let fixture = try! RepositoryFixture()

    func backup(_ source: String, afterReadingFile: @escaping (String) throws -> Void) throws -> (Archiver.Result, Repository) {
        let repository = try fixture.repository("acme")
        var options = Archiver.Options(host: "h", time: Date(), program: "tests", temporaryDirectory: "\(fixture.root)/tmp")
        options.afterReadingFile = afterReadingFile
        let result = try Archiver(repository: repository, options: options)
            .backup(sources: [TenantSource(kind: .directory, location: source)], parent: nil)
        return (result, repository)
    }

    func append(_ text: String, to path: String) throws {
        let file = try OwnedFile(path: path, flags: O_WRONLY | O_APPEND)
        try file.write(Array(text.utf8))
        try file.close()
    }

    func stored(_ name: String, in result: Archiver.Result, _ repository: Repository) throws -> [UInt8] {
        let root = try repository.loadTree(try #require(result.snapshot.treeID))
        let node = try #require(root.node(named: name))
        var bytes: [UInt8] = []
        try repository.readContent(of: node, path: name) { bytes += $0 }
        #expect(node.size == bytes.count)
        return bytes
    }

    @Test func aFileThatChangesDuringTheFirstReadOnlyIsReadAgainAndStoredWhole() throws {
        let source = try fixture.directory("source")
        try FileSystem.writeAtomically(Array("first version\n".utf8), to: "\(source)/log")
        let reads = Counter()
        let (result, repository) = try backup(source) { path in
            if reads.next() == 1 { try append("appended while read\n", to: path) }
        }
        #expect(reads.value == 2)
        #expect(result.snapshot.summary.warnings == [])
        #expect(try stored("log", in: result, repository) == Array("first version\nappended while read\n".utf8))
        #expect(try stored("log", in: result, repository) == FileSystem.readFile("\(source)/log"))
    }

    @Test func aFileThatChangesDuringBothReadsIsAWarningNamingIt() throws {
        let source = try fixture.directory("source")
        try FileSystem.writeAtomically(Array("start\n".utf8), to: "\(source)/log")
        try FileSystem.writeAtomically(Array("quiet\n".utf8), to: "\(source)/other")
        let reads = Counter()
        let (result, repository) = try backup(source) { path in
            if path.hasSuffix("/log") { _ = reads.next(); try append("more\n", to: path) }
        }
        #expect(reads.value == 2, "read twice, not more")
        #expect(result.snapshot.summary.warnings.count == 1)
        #expect(result.snapshot.summary.warnings.first?.hasPrefix("\(source)/log: changed while it was read") == true)
        #expect(result.snapshot.summary.errors == [])
        // The second read is kept: what was there when it began.
        #expect(try stored("log", in: result, repository) == Array("start\nmore\n".utf8))
        #expect(try stored("other", in: result, repository) == Array("quiet\n".utf8))
    }

    @Test func aTornFileIsReadAgainByTheNextBackup() throws {
        let source = try fixture.directory("source")
        try FileSystem.writeAtomically(Array("start\n".utf8), to: "\(source)/log")
        let (first, _) = try backup(source) { path in try append("more\n", to: path) }
        #expect(first.snapshot.summary.warnings.count == 1)
        let second = try fixture.backup(try fixture.repository("acme"), source: source, parent: first)
        #expect(second.snapshot.summary.filesChanged == 1 && second.snapshot.summary.filesUnchanged == 0)
        #expect(second.snapshot.summary.warnings == [])
    }
}

/// Counts calls from the archiver's hook.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int { lock.withLock { count } }

    func next() -> Int {
        lock.withLock { count += 1; return count }
    }
}
