import Foundation
import Glibc
import LetheStore
import Testing

/// `DirectoryHandle` never follows a symbolic link and never leaves its directory: each test
/// plants a link to an `outside` directory where the handle works, and checks that the outside
/// is untouched.
@Suite struct DirectoryHandleTests {
    let directory = TestDirectory()
    var inside: String { "\(directory.path)/inside" }
    var outside: String { "\(directory.path)/outside" }

    init() throws {
        try FileSystem.makeDirectories("\(directory.path)/inside")
        try FileSystem.makeDirectories("\(directory.path)/outside")
        try FileSystem.writeAtomically(Array("secret".utf8), to: "\(directory.path)/outside/file", mode: 0o600)
    }

    func handle() throws -> DirectoryHandle { try DirectoryHandle(path: inside) }

    func link(_ name: String, to target: String) throws {
        guard symlink(target, "\(inside)/\(name)") == 0 else { throw SystemError("symlink", name) }
    }

    func outsideIsUntouched() throws -> Bool {
        try FileSystem.listDirectory(outside) == ["file"] && FileSystem.readFile("\(outside)/file") == Array("secret".utf8)
            && permissions("\(outside)/file") == 0o600 && permissions(outside) == 0o700
    }

    // MARK: Opening

    @Test func openingASubdirectoryThatIsALinkFailsNamingIt() throws {
        try link("sub", to: outside)
        let error = #expect(throws: SystemError.self) { _ = try handle().openDirectory("sub") }
        #expect(error?.code == ENOTDIR, "Linux's answer to O_DIRECTORY | O_NOFOLLOW on a link")
        #expect(error?.path == "\(inside)/sub")
    }

    @Test func openingAPathWhoseLastComponentIsALinkFails() throws {
        try link("sub", to: outside)
        let error = #expect(throws: SystemError.self) { _ = try DirectoryHandle(path: "\(inside)/sub") }
        #expect(error?.code == ENOTDIR)
    }

    @Test func resolvingParentsFollowsLinksAboveButNotTheLastComponent() throws {
        try link("up", to: directory.path)
        let resolved = try DirectoryHandle(resolvingParentsOf: "\(inside)/up/outside/")
        #expect(resolved.path == "\(try realPath(directory.path))/outside")
        #expect(try resolved.status(of: "file") != nil)
        try link("last", to: outside)
        let error = #expect(throws: SystemError.self) { _ = try DirectoryHandle(resolvingParentsOf: "\(inside)/last") }
        #expect(error?.code == ENOTDIR)
    }

    @Test func openParentReachesWhateverHoldsTheDirectoryNow() throws {
        try FileSystem.makeDirectories("\(inside)/sub")
        let sub = try handle().openDirectory("sub")
        #expect(try identity(sub.openParent().status()) == identity(try handle().status()))
        try FileSystem.rename("\(inside)/sub", to: "\(outside)/sub")
        #expect(try identity(sub.openParent().status()) == identity(try DirectoryHandle(path: outside).status()))
    }

    // MARK: Creating

    @Test func createFileIsExclusiveAndDoesNotWriteThroughALink() throws {
        try link("file", to: "\(outside)/file")
        let error = #expect(throws: SystemError.self) { _ = try handle().createFile("file", mode: 0o600) }
        #expect(error?.code == EEXIST)
        #expect(error?.path == "\(inside)/file")
        #expect(try outsideIsUntouched())
    }

    @Test func createFileMakesANewFileThatIsWritable() throws {
        let file = try handle().createFile("new", mode: 0o600)
        try file.write(Array("hello".utf8))
        try file.close()
        #expect(try FileSystem.readFile("\(inside)/new") == Array("hello".utf8))
        #expect(permissions("\(inside)/new") == 0o600)
    }

    @Test func makeDirectoryFailsOnALinkInsteadOfFollowingIt() throws {
        try link("sub", to: outside)
        let error = #expect(throws: SystemError.self) { try handle().makeDirectory("sub", mode: 0o700) }
        #expect(error?.code == EEXIST)
        try handle().makeDirectory("real", mode: 0o700)
        #expect(FileSystem.isDirectory("\(inside)/real"))
    }

    @Test func makeSymlinkCreatesTheLinkItself() throws {
        try handle().makeSymlink("l", to: "../outside/file")
        var buffer = [CChar](repeating: 0, count: 256)
        let length = readlink("\(inside)/l", &buffer, buffer.count)
        #expect(String(decoding: buffer[0..<max(0, length)].map { UInt8(bitPattern: $0) }, as: UTF8.self) == "../outside/file")
    }

    // MARK: Replacing and removing

    @Test func renameReplacesALinkAndNotWhatItPointsTo() throws {
        try link("target", to: "\(outside)/file")
        let file = try handle().createFile("staged", mode: 0o600)
        try file.write(Array("new".utf8))
        try file.close()
        try handle().rename("staged", to: "target")
        #expect(try handle().status(of: "target").map { $0.st_mode & S_IFMT } == S_IFREG)
        #expect(try FileSystem.readFile("\(inside)/target") == Array("new".utf8))
        #expect(try outsideIsUntouched())
    }

    @Test func removeUnlinksALinkAndNotItsTarget() throws {
        try link("sub", to: outside)
        try handle().remove("sub")
        #expect(try handle().status(of: "sub") == nil)
        #expect(try outsideIsUntouched())
    }

    @Test func removeDirectoryRemovesOnlyAnEmptyDirectory() throws {
        try FileSystem.makeDirectories("\(inside)/full")
        try FileSystem.writeAtomically([1], to: "\(inside)/full/x")
        let error = #expect(throws: SystemError.self) { try handle().removeDirectory("full") }
        #expect(error?.code == ENOTEMPTY)
        try FileSystem.makeDirectories("\(inside)/empty")
        try handle().removeDirectory("empty")
        #expect(!FileSystem.exists("\(inside)/empty"))
    }

    // MARK: Metadata

    @Test func statusOfANameDescribesALinkItselfOrNothing() throws {
        try link("sub", to: outside)
        #expect(try handle().status(of: "sub").map { $0.st_mode & S_IFMT } == S_IFLNK)
        #expect(try handle().status(of: "missing") == nil)
    }

    @Test func timesAndOwnerOfANameChangeALinkAndNotItsTarget() throws {
        try link("l", to: "\(outside)/file")
        let before = try #require(try FileSystem.status("\(outside)/file"))
        try handle().setModificationTime(of: "l", timespec(tv_sec: 1_000_000_000, tv_nsec: 5))
        try handle().setOwner(of: "l", uid: geteuid(), gid: getegid())
        let link = try #require(try handle().status(of: "l"))
        #expect(link.st_mtim.tv_sec == 1_000_000_000 && link.st_mtim.tv_nsec == 5)
        let after = try #require(try FileSystem.status("\(outside)/file"))
        #expect(after.st_mtim.tv_sec == before.st_mtim.tv_sec && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec)
        #expect(try outsideIsUntouched())
    }

    /// The descriptor stays on the directory it opened: after the directory is moved and a
    /// link put in its place, permissions and times still reach the moved directory only.
    @Test func metadataOfTheDirectoryItselfFollowsTheDescriptorNotTheName() throws {
        try FileSystem.makeDirectories("\(inside)/sub")
        let sub = try handle().openDirectory("sub")
        try FileSystem.rename("\(inside)/sub", to: "\(inside)/moved")
        try link("sub", to: outside)
        try sub.setOwner(uid: geteuid(), gid: getegid())
        try sub.setPermissions(0o1750)
        try sub.setModificationTime(timespec(tv_sec: 1_200_000_000, tv_nsec: 7))
        #expect(permissions("\(inside)/moved") == 0o1750)
        let moved = try #require(try FileSystem.status("\(inside)/moved"))
        #expect(moved.st_mtim.tv_sec == 1_200_000_000 && moved.st_mtim.tv_nsec == 7)
        #expect(try outsideIsUntouched())
    }

    @Test func ownedFileMetadataIsSetOnTheDescriptor() throws {
        let file = try handle().createFile("f", mode: 0o600)
        try file.setOwner(uid: geteuid(), gid: getegid())
        try file.setPermissions(0o4755)
        try file.setModificationTime(timespec(tv_sec: 1_300_000_000, tv_nsec: 9))
        try file.close()
        #expect(permissions("\(inside)/f") == 0o4755)
        let info = try #require(try FileSystem.status("\(inside)/f"))
        #expect(info.st_mtim.tv_sec == 1_300_000_000 && info.st_mtim.tv_nsec == 9)
    }

    // MARK: Names

    @Test(arguments: ["", ".", "..", "a/b", "../outside", "a\u{0}b"])
    func aNameThatIsNotOneEntryIsRefused(_ name: String) throws {
        let handle = try handle()
        let operations: [(String, () throws -> Void)] = [
            ("openDirectory", { _ = try handle.openDirectory(name) }),
            ("makeDirectory", { try handle.makeDirectory(name, mode: 0o700) }),
            ("createFile", { _ = try handle.createFile(name, mode: 0o600) }),
            ("makeSymlink", { try handle.makeSymlink(name, to: "x") }),
            ("rename", { try handle.rename("x", to: name) }),
            ("remove", { try handle.remove(name) }),
            ("removeDirectory", { try handle.removeDirectory(name) }),
            ("status", { _ = try handle.status(of: name) }),
            ("setModificationTime", { try handle.setModificationTime(of: name, timespec()) }),
            ("setOwner", { try handle.setOwner(of: name, uid: 0, gid: 0) }),
        ]
        for (label, operation) in operations {
            let error = #expect(throws: SystemError.self, "\(label)") { try operation() }
            #expect(error?.code == EINVAL, "\(label)")
        }
        #expect(try outsideIsUntouched())
        #expect(try FileSystem.listDirectory(inside).isEmpty)
    }
}

private struct Identity: Equatable {
    let device: UInt64
    let inode: UInt64
}

private func identity(_ info: stat) -> Identity {
    Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
}

private func realPath(_ path: String) throws -> String {
    guard let resolved = realpath(path, nil) else { throw SystemError("realpath", path) }
    defer { free(resolved) }
    return String(cString: resolved)
}
