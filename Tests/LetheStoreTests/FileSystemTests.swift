import Foundation
import Glibc
import LetheStore
import Testing

@Suite struct FileSystemTests {
    let directory = TestDirectory()

    // MARK: writeAtomically

    @Test func atomicWriteStoresExactlyTheGivenBytes() throws {
        let path = "\(directory.path)/data"
        let bytes = testBytes(1 << 20 + 7, seed: 1)
        try FileSystem.writeAtomically(bytes, to: path)
        #expect(try FileSystem.readFile(path) == bytes)
        try FileSystem.writeAtomically([], to: "\(directory.path)/empty")
        #expect(try FileSystem.readFile("\(directory.path)/empty") == [])
    }

    @Test func atomicWriteHasExactlyTheRequestedModeWhateverTheUmask() throws {
        // The umask is process-wide and tests run in parallel, so use the usual 022 (which
        // other tests expect anyway) and ask for modes it would filter.
        let old = umask(0o022)
        defer { umask(old) }
        try FileSystem.writeAtomically(Array("x".utf8), to: "\(directory.path)/a", mode: 0o666)
        try FileSystem.writeAtomically(Array("x".utf8), to: "\(directory.path)/b", mode: 0o775)
        try FileSystem.writeAtomically(Array("y".utf8), to: "\(directory.path)/c")
        #expect(permissions("\(directory.path)/a") == 0o666)
        #expect(permissions("\(directory.path)/b") == 0o775)
        #expect(permissions("\(directory.path)/c") == 0o600, "the default mode is owner-only")
    }

    @Test func atomicWriteReplacesAnExistingFileIncludingItsMode() throws {
        let path = "\(directory.path)/file"
        try FileSystem.writeAtomically(Array("a much longer first version".utf8), to: path, mode: 0o644)
        try FileSystem.writeAtomically(Array("second".utf8), to: path, mode: 0o600)
        #expect(try FileSystem.readFile(path) == Array("second".utf8))
        #expect(permissions(path) == 0o600)
    }

    @Test func atomicWriteLeavesNoTemporaryFileBehind() throws {
        let path = "\(directory.path)/file"
        for round in 0..<3 { try FileSystem.writeAtomically([UInt8(round)], to: path) }
        #expect(try FileSystem.listDirectory(directory.path) == ["file"])
    }

    @Test func failedAtomicWriteLeavesNothingAndNamesThePath() throws {
        let path = "\(directory.path)/missing/file"
        do {
            try FileSystem.writeAtomically([1], to: path)
            Issue.record("writing into a missing directory succeeded")
        } catch let error as SystemError {
            #expect(error.isNotFound)
            #expect(error.description.contains("\(directory.path)/missing"))
        }
        #expect(try FileSystem.listDirectory(directory.path).isEmpty)
    }

    // MARK: readFile

    @Test func readFileRefusesFilesOverTheLimit() throws {
        let path = "\(directory.path)/big"
        try FileSystem.writeAtomically([UInt8](repeating: 1, count: 100), to: path)
        do {
            _ = try FileSystem.readFile(path, limit: 99)
            Issue.record("a 100-byte file was read with a limit of 99")
        } catch let error as SystemError {
            #expect(error.code == EFBIG)
            #expect(error.path == path)
        }
        #expect(try FileSystem.readFile(path, limit: 100).count == 100)
    }

    @Test func readFileOfAMissingFileIsNotFound() {
        #expect(throws: SystemError.self) { _ = try FileSystem.readFile("\(directory.path)/nothing") }
        #expect((try? FileSystem.readFile("\(directory.path)/nothing")) == nil)
    }

    // MARK: removeTree

    @Test func removeTreeRemovesNestedContentWithoutFollowingLinks() throws {
        let outside = "\(directory.path)/outside"
        try FileSystem.makeDirectories(outside)
        try FileSystem.writeAtomically([7], to: "\(outside)/keep")
        let tree = "\(directory.path)/t"
        try FileSystem.makeDirectories("\(tree)/a/b/c")
        try FileSystem.makeDirectories("\(tree)/empty")
        try FileSystem.writeAtomically([1], to: "\(tree)/a/b/c/f")
        try FileSystem.writeAtomically([2], to: "\(tree)/a/.hidden")
        #expect(symlink(outside, "\(tree)/a/link-to-dir") == 0)
        #expect(symlink("\(outside)/keep", "\(tree)/link-to-file") == 0)
        try FileSystem.removeTree(tree)
        #expect(!FileSystem.exists(tree))
        #expect(try FileSystem.readFile("\(outside)/keep") == [7], "links are removed, not followed")
    }

    @Test func removeTreeOfAMissingPathOrASingleFileSucceeds() throws {
        try FileSystem.removeTree("\(directory.path)/never-existed")
        try FileSystem.writeAtomically([1], to: "\(directory.path)/single")
        try FileSystem.removeTree("\(directory.path)/single")
        #expect(!FileSystem.exists("\(directory.path)/single"))
    }

    // MARK: Directories and paths

    @Test func listDirectoryIsSortedByBytesAndOmitsDotEntries() throws {
        for name in ["b", "a", "Z", "é", ".hidden"] { try FileSystem.writeAtomically([], to: "\(directory.path)/\(name)") }
        #expect(try FileSystem.listDirectory(directory.path) == [".hidden", "Z", "a", "b", "é"])
    }

    @Test func parentAndBasenameSplitPaths() {
        #expect(FileSystem.parent(of: "/a/b/c") == "/a/b")
        #expect(FileSystem.parent(of: "/a") == "/")
        #expect(FileSystem.parent(of: "a") == ".")
        #expect(FileSystem.basename(of: "/a/b/c.db") == "c.db")
        #expect(FileSystem.basename(of: "c.db") == "c.db")
    }
}
