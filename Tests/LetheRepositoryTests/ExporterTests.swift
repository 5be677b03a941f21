import Foundation
import Glibc
import LetheStore
import Testing
@testable import LetheRepository

@Suite struct ExporterTests {
    let fixture = try! RepositoryFixture()

    /// The sample tree without its 20 MiB file, backed up once.
    func backedUp() throws -> Snapshot {
        let source = try fixture.directory("source")
        try SampleTree.make(at: source, withBigFile: false)
        return try fixture.backup(try fixture.repository("acme"), source: source).snapshot
    }

    static let smallFiles = SampleTree.files.filter { $0.path != "big.bin" }

    @Test func aPlanCountsWhatTheArchiveWillHoldAndWritesNothing() throws {
        let snapshot = try backedUp()
        let output = try fixture.directory("out")
        let plan = try Exporter(repository: try fixture.repository("acme")).plan(snapshot)
        #expect(plan.files == ExporterTests.smallFiles.count)
        #expect(plan.directories == SampleTree.directories.count)
        #expect(plan.symlinks == SampleTree.links.count)
        #expect(plan.bytes == ExporterTests.smallFiles.reduce(0) { $0 + $1.bytes.count })
        #expect(try FileSystem.listDirectory(output).isEmpty)
    }

    @Test func writeProducesTheArchiveThePlanLists() throws {
        let snapshot = try backedUp()
        let archive = "\(try fixture.directory("out"))/acme.tar"
        let exporter = Exporter(repository: try fixture.repository("acme"))
        let plan = try exporter.plan(snapshot)
        let summary = try exporter.write(plan, to: archive)
        #expect(summary.files == plan.files && summary.directories == plan.directories)
        #expect(summary.symlinks == plan.symlinks && summary.bytes == plan.bytes)
        #expect(summary.archiveBytes == Int(try #require(try FileSystem.status(archive)).st_size))
        #expect(permissions(archive) == 0o600)
        let expected = ExporterTests.smallFiles.map(\.path) + SampleTree.directories.map { "\($0.path)/" } + SampleTree.links.map(\.path)
        #expect(try listArchive(archive).sorted() == expected.sorted())
    }

    @Test func exportIsPlanThenWrite() throws {
        let snapshot = try backedUp()
        let output = try fixture.directory("out")
        let exporter = Exporter(repository: try fixture.repository("acme"))
        let direct = try exporter.export(snapshot, to: "\(output)/direct.tar")
        let stepwise = try exporter.write(try exporter.plan(snapshot), to: "\(output)/stepwise.tar")
        #expect(direct == stepwise)
        #expect(try FileSystem.readFile("\(output)/direct.tar") == FileSystem.readFile("\(output)/stepwise.tar"))
    }

    @Test func writingIntoAMissingDirectoryIsAUsageError() throws {
        let snapshot = try backedUp()
        let exporter = Exporter(repository: try fixture.repository("acme"))
        let plan = try exporter.plan(snapshot)
        let error = #expect(throws: LetheError.self) { _ = try exporter.write(plan, to: "\(fixture.root)/nope/acme.tar") }
        #expect(error?.kind == .usage)
    }

    /// The entry names `tar -tf` reads from `archive`.
    func listArchive(_ archive: String) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["tar", "-tf", archive]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
