import Foundation
import Glibc
import LetheCrypto
@testable import LetheStore
import Testing

/// `KeyDirectory`: what it accepts, what it refuses (and with which error), and that nothing
/// outside the directory is ever read, written or destroyed through a link.
@Suite struct KeyDirectoryTests {
    let directory = TestDirectory()
    var keys: String { "\(directory.path)/keys" }

    /// A private key directory holding `name` with `bytes` at `mode`.
    func keyDirectory(with name: String = "key", bytes: [UInt8] = [1, 2, 3], mode: mode_t = 0o600) throws -> KeyDirectory {
        let opened = try KeyDirectory(keys, opening: .creatingIfMissing)
        try bytes.withUnsafeBytes { try opened.write($0, to: name, mode: mode) }
        return opened
    }

    func expectRefusal(_ expected: KeyFileError, _ body: () throws -> Void) {
        #expect(throws: expected) { try body() }
        #expect(expected.description.contains(expected.path))
    }

    // MARK: The directory

    @Test func creatingMakesAMissingDirectoryAndItsParentsOwnerOnly() throws {
        let nested = "\(directory.path)/a/b/keys"
        _ = try KeyDirectory(nested, opening: .creatingIfMissing)
        #expect(permissions(nested) == 0o700)
        #expect(permissions("\(directory.path)/a") == 0o700)
    }

    @Test(arguments: [0o750, 0o705, 0o755, 0o770, 0o701] as [mode_t])
    func directoryThatOthersMayEnterIsRefused(_ mode: mode_t) throws {
        try FileSystem.makeDirectories(keys)
        chmod(keys, mode)
        expectRefusal(.insecureDirectoryMode(path: keys, mode: mode)) { _ = try KeyDirectory(keys) }
        expectRefusal(.insecureDirectoryMode(path: keys, mode: mode)) { _ = try KeyDirectory(keys, opening: .creatingIfMissing) }
        #expect(KeyFileError.insecureDirectoryMode(path: keys, mode: mode).description.contains("chmod 700 \(keys)"))
        #expect(permissions(keys) == mode, "refusing changes nothing")
    }

    @Test func tighteningSetsALooseDirectoryOfTheUsersTo0700AndKeepsItsContent() throws {
        try FileSystem.makeDirectories(keys)
        try FileSystem.writeAtomically(Array("readme".utf8), to: "\(keys)/README.md", mode: 0o644)
        chmod(keys, 0o755)
        _ = try KeyDirectory(keys, opening: .creatingOrTightening)
        #expect(permissions(keys) == 0o700)
        #expect(try FileSystem.readFile("\(keys)/README.md") == Array("readme".utf8))
        _ = try KeyDirectory(keys)
    }

    @Test func symbolicLinkToADirectoryIsRefusedEvenWhenTighteningIsAllowed() throws {
        let real = "\(directory.path)/real"
        try FileSystem.makeDirectories(real)
        #expect(symlink(real, keys) == 0)
        expectRefusal(.symbolicLink(path: keys)) { _ = try KeyDirectory(keys) }
        expectRefusal(.symbolicLink(path: keys)) { _ = try KeyDirectory(keys, opening: .creatingOrTightening) }
        #expect(KeyFileError.symbolicLink(path: keys).isIntegrityViolation)
    }

    @Test func regularFileWhereTheDirectoryShouldBeIsRefused() throws {
        try FileSystem.writeAtomically([1], to: keys)
        expectRefusal(.notDirectory(path: keys)) { _ = try KeyDirectory(keys) }
    }

    @Test func missingDirectoryIsNotFound() {
        do {
            _ = try KeyDirectory(keys)
            Issue.record("a missing directory opened")
        } catch let error as SystemError {
            #expect(error.isNotFound && error.path == keys)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func directoryOwnedBySomeoneElseIsRefused() throws {
        // As root, hand a directory to nobody (65534); otherwise, `/` belongs to root, not us.
        let foreign: String
        if geteuid() == 0 {
            try FileSystem.makeDirectories(keys)
            #expect(chown(keys, 65534, 65534) == 0)
            foreign = keys
        } else {
            foreign = "/"
        }
        let owner = try #require(try FileSystem.status(foreign)).st_uid
        #expect(owner != geteuid())
        expectRefusal(.wrongOwner(path: foreign, owner: owner, user: geteuid())) {
            _ = try KeyDirectory(foreign, opening: .creatingOrTightening)
        }
    }

    // MARK: Reading key files

    @Test func privateFileReadsBackExactly() throws {
        let opened = try keyDirectory(bytes: Array(0...255))
        #expect(try opened.read("key", limit: 256) == Array(0...255))
        let secret = try opened.readSecret("key", limit: 256)
        #expect(secret.withUnsafeBytes { Array($0) } == Array(0...255))
    }

    @Test(arguments: [0o640, 0o604, 0o644, 0o660, 0o606, 0o620, 0o602, 0o610, 0o601] as [mode_t])
    func fileThatGroupOrOthersMayAccessIsRefused(_ mode: mode_t) throws {
        let opened = try keyDirectory(mode: mode)
        let path = "\(keys)/key"
        expectRefusal(.insecureFileMode(path: path, mode: mode)) { _ = try opened.read("key", limit: 64) }
        expectRefusal(.insecureFileMode(path: path, mode: mode)) { _ = try opened.readSecret("key", limit: 64) }
        #expect(KeyFileError.insecureFileMode(path: path, mode: mode).description.contains("chmod 600 \(path)"))
    }

    @Test(arguments: [0o600, 0o400] as [mode_t])
    func ownerOnlyModesAreAccepted(_ mode: mode_t) throws {
        let opened = try keyDirectory(mode: mode)
        #expect(try opened.read("key", limit: 64) == [1, 2, 3])
    }

    /// The old check (`stat`, then `open`) followed links: a link to a private file anywhere
    /// was read as if it were the key.
    @Test func symbolicLinkToAPrivateFileIsRefused() throws {
        let opened = try keyDirectory()
        let elsewhere = "\(directory.path)/elsewhere"
        try FileSystem.writeAtomically([9, 9, 9], to: elsewhere, mode: 0o600)
        #expect(symlink(elsewhere, "\(keys)/link") == 0)
        expectRefusal(.symbolicLink(path: "\(keys)/link")) { _ = try opened.read("link", limit: 64) }
        expectRefusal(.symbolicLink(path: "\(keys)/link")) { _ = try opened.readSecret("link", limit: 64) }
    }

    @Test func fileWithASecondHardLinkIsRefused() throws {
        let opened = try keyDirectory()
        #expect(link("\(keys)/key", "\(directory.path)/copy") == 0)
        expectRefusal(.multipleLinks(path: "\(keys)/key", count: 2)) { _ = try opened.read("key", limit: 64) }
    }

    @Test func fileOwnedBySomeoneElseIsRefused() throws {
        if geteuid() == 0 {
            let opened = try keyDirectory()
            #expect(chown("\(keys)/key", 65534, 65534) == 0)
            expectRefusal(.wrongOwner(path: "\(keys)/key", owner: 65534, user: 0)) { _ = try opened.read("key", limit: 64) }
        } else {
            // Not root: no file of another user can be put in our directory, so check the
            // descriptor test itself on one we cannot own.
            let file = try OwnedFile(path: "/etc/passwd", flags: O_RDONLY)
            let info = try file.status()
            expectRefusal(.wrongOwner(path: "/etc/passwd", owner: info.st_uid, user: geteuid())) {
                try KeyDirectory.requirePrivateFile(info, "/etc/passwd")
            }
        }
    }

    @Test func fifoInPlaceOfAKeyFileIsRefusedWithoutBlocking() throws {
        let opened = try keyDirectory()
        #expect(mkfifo("\(keys)/fifo", 0o600) == 0)
        expectRefusal(.notRegularFile(path: "\(keys)/fifo")) { _ = try opened.read("fifo", limit: 64) }
    }

    @Test func fileOverTheLimitIsRefused() throws {
        let opened = try keyDirectory(bytes: [UInt8](repeating: 7, count: 65))
        do {
            _ = try opened.readSecret("key", limit: 64)
            Issue.record("a 65-byte file was read with a limit of 64")
        } catch let error as SystemError {
            #expect(error.code == EFBIG && error.path == "\(keys)/key")
        }
    }

    @Test func missingFileIsNotFoundAndNotContained() throws {
        let opened = try keyDirectory()
        #expect(try opened.contains("key"))
        #expect(try !opened.contains("absent"))
        do {
            _ = try opened.read("absent", limit: 64)
            Issue.record("a missing file was read")
        } catch let error as SystemError {
            #expect(error.isNotFound && error.path == "\(keys)/absent")
        }
    }

    @Test func namesAreSortedAndRepeatable() throws {
        let opened = try keyDirectory(with: "b")
        try [UInt8]([1]).withUnsafeBytes { try opened.write($0, to: "a") }
        #expect(try opened.names() == ["a", "b"])
        #expect(try opened.names() == ["a", "b"], "a second listing starts from the beginning again")
    }

    // MARK: Writing

    @Test func writeSetsExactlyTheModeWhateverTheUmaskAndLeavesNoTemporaryFile() throws {
        let old = umask(0o022)
        defer { umask(old) }
        let opened = try keyDirectory(mode: 0o600)
        try [UInt8]([4]).withUnsafeBytes { try opened.write($0, to: "public", mode: 0o644) }
        #expect(permissions("\(keys)/key") == 0o600)
        #expect(permissions("\(keys)/public") == 0o644)
        #expect(try opened.names() == ["key", "public"])
    }

    @Test func writeReplacesALinkAtTheNameInsteadOfWritingThroughIt() throws {
        let opened = try keyDirectory()
        let elsewhere = "\(directory.path)/elsewhere"
        try FileSystem.writeAtomically([9, 9, 9], to: elsewhere, mode: 0o600)
        #expect(symlink(elsewhere, "\(keys)/key2") == 0)
        try [UInt8]([5, 5]).withUnsafeBytes { try opened.write($0, to: "key2") }
        #expect(try FileSystem.readFile(elsewhere) == [9, 9, 9])
        #expect(try opened.read("key2", limit: 64) == [5, 5])
    }

    // MARK: Destroying

    @Test func destroyZeroesTheContentBeforeUnlinking() throws {
        let opened = try keyDirectory(bytes: [UInt8](repeating: 0xAB, count: 70_000))
        // A descriptor opened before keeps the inode readable after the unlink.
        let witness = try OwnedFile(path: "\(keys)/key", flags: O_RDONLY)
        try opened.destroy("key")
        #expect(try !opened.contains("key"))
        var after = [UInt8](repeating: 0xFF, count: 70_000)
        try after.withUnsafeMutableBytes { try witness.read(into: $0, at: 0) }
        #expect(after == [UInt8](repeating: 0, count: 70_000))
    }

    /// The old destruction opened the name and wrote zeros into whatever a link pointed at.
    @Test func destroyRemovesALinkItselfAndLeavesItsTargetUntouched() throws {
        let opened = try keyDirectory()
        let elsewhere = "\(directory.path)/precious"
        try FileSystem.writeAtomically([UInt8](repeating: 0x42, count: 100), to: elsewhere, mode: 0o600)
        #expect(symlink(elsewhere, "\(keys)/epoch-000002.kek") == 0)
        try opened.destroy("epoch-000002.kek")
        #expect(try !opened.contains("epoch-000002.kek"))
        #expect(try FileSystem.readFile(elsewhere) == [UInt8](repeating: 0x42, count: 100))
        #expect(try opened.read("key", limit: 64) == [1, 2, 3], "nothing else in the directory was touched")
    }

    @Test func destroyRefusesAFileWithAnotherHardLinkAndTouchesNothing() throws {
        let opened = try keyDirectory()
        let other = "\(directory.path)/other-name"
        #expect(link("\(keys)/key", other) == 0)
        expectRefusal(.multipleLinks(path: "\(keys)/key", count: 2)) { try opened.destroy("key") }
        #expect(try FileSystem.readFile(other) == [1, 2, 3])
        #expect(try opened.contains("key"))
    }

    @Test(.enabled(if: geteuid() == 0, "only root can put another user's file in its own directory"))
    func destroyRefusesAFileOwnedBySomeoneElse() throws {
        let opened = try keyDirectory()
        #expect(chown("\(keys)/key", 65534, 65534) == 0)
        expectRefusal(.wrongOwner(path: "\(keys)/key", owner: 65534, user: 0)) { try opened.destroy("key") }
        #expect(try FileSystem.readFile("\(keys)/key") == [1, 2, 3])
    }

    @Test func destroyRefusesAFifoAndOfAMissingFileSucceeds() throws {
        let opened = try keyDirectory()
        #expect(mkfifo("\(keys)/fifo", 0o600) == 0)
        expectRefusal(.notRegularFile(path: "\(keys)/fifo")) { try opened.destroy("fifo") }
        try opened.destroy("never-existed")
        #expect(try opened.names() == ["fifo", "key"])
    }

    // MARK: Lock files

    @Test func lockFileIsCreatedOwnerOnlyAndALinkInItsPlaceIsRefused() throws {
        let opened = try keyDirectory()
        _ = try opened.openLockFile("run.lock")
        #expect(permissions("\(keys)/run.lock") == 0o600)
        let target = "\(directory.path)/not-created"
        #expect(symlink(target, "\(keys)/other.lock") == 0)
        expectRefusal(.symbolicLink(path: "\(keys)/other.lock")) { _ = try opened.openLockFile("other.lock") }
        #expect(!FileSystem.exists(target))
    }
}
