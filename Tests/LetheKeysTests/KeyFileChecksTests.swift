import Foundation
import Glibc
import LetheCrypto
import LetheKeys
import LetheStore
import Testing

/// The keystore, the KEK provider and the lock go through `KeyDirectory`: the key directory
/// and `kek/` must be private directories of the user's, and every key file a private regular
/// file of the user's with one name; links are refused, and never written through.
@Suite struct KeyFileChecksTests {
    let directory = TestDirectory()
    var keys: String { "\(directory.path)/keys" }
    var kek: String { "\(keys)/kek" }
    var provider: FileKEKProvider { FileKEKProvider(directory: kek) }
    var editor: KeystoreEditor { KeystoreEditor(keys: keys) }

    func tenant(_ name: String) -> TenantID { try! TenantID(name) }

    func populated() throws -> Keystore {
        let keystore = try Keystore.create(directory: keys, provider: provider)
        try keystore.createKey(for: tenant("acme"))
        return keystore
    }

    func mode(_ path: String) throws -> mode_t {
        try #require(try FileSystem.status(path)).st_mode & 0o777
    }

    // MARK: Directories

    /// What `lethe init --keys Keys` meets after a git checkout: an existing 0755 folder with
    /// a README and no key.
    @Test func createSetsALooseDirectoryWithoutKeysTo0700() throws {
        try FileSystem.makeDirectories(keys)
        try FileSystem.writeAtomically(Array("# Keys\n".utf8), to: "\(keys)/README.md", mode: 0o644)
        chmod(keys, 0o755)
        _ = try populated()
        #expect(try mode(keys) == 0o700)
        #expect(try mode(kek) == 0o700)
        #expect(try FileSystem.readFile("\(keys)/README.md") == Array("# Keys\n".utf8))
    }

    @Test func createOnALooseDirectoryThatHoldsAKeystoreChangesNothing() throws {
        _ = try populated()
        chmod(keys, 0o755)
        #expect(throws: KeyError.alreadyInitialized(directory: keys)) { _ = try Keystore.create(directory: keys, provider: provider) }
        #expect(try mode(keys) == 0o755)
    }

    @Test func keyDirectoryLoosenedLaterIsRefused() throws {
        let keystore = try populated()
        chmod(keys, 0o755)
        #expect(throws: KeyFileError.insecureDirectoryMode(path: keys, mode: 0o755)) { _ = try Keystore(directory: keys, provider: provider) }
        #expect(throws: KeyFileError.insecureDirectoryMode(path: keys, mode: 0o755)) { _ = try keystore.unwrapKey(for: tenant("acme")) }
    }

    @Test func kekDirectoryLoosenedLaterIsRefused() throws {
        let keystore = try populated()
        chmod(kek, 0o750)
        #expect(throws: KeyFileError.insecureDirectoryMode(path: kek, mode: 0o750)) { _ = try keystore.unwrapKey(for: tenant("acme")) }
        #expect(throws: KeyFileError.insecureDirectoryMode(path: kek, mode: 0o750)) { try keystore.rotate() }
    }

    @Test func keyDirectoryBehindASymbolicLinkIsRefused() throws {
        _ = try populated()
        let link = "\(directory.path)/keys-link"
        #expect(symlink(keys, link) == 0)
        #expect(throws: KeyFileError.symbolicLink(path: link)) {
            _ = try Keystore(directory: link, provider: FileKEKProvider(directory: "\(keys)/kek"))
        }
    }

    @Test func keyDirectoryOwnedBySomeoneElseIsRefused() throws {
        // As root, hand the directory to nobody (65534); otherwise `/` is root's, not ours.
        let foreign: String
        if geteuid() == 0 {
            _ = try populated()
            #expect(chown(keys, 65534, 65534) == 0)
            foreign = keys
        } else {
            foreign = "/"
        }
        let owner = try #require(try FileSystem.status(foreign)).st_uid
        #expect(throws: KeyFileError.wrongOwner(path: foreign, owner: owner, user: geteuid())) {
            _ = try Keystore(directory: foreign, provider: FileKEKProvider(directory: "\(foreign)/kek"))
        }
    }

    // MARK: Key files

    @Test(.enabled(if: geteuid() == 0, "only root can give a file in its own directory to another user"))
    func keyFilesOwnedBySomeoneElseAreRefused() throws {
        let keystore = try populated()
        for path in ["\(keys)/keystore.json", "\(kek)/epoch-000001.kek"] {
            #expect(chown(path, 65534, 65534) == 0)
            #expect(throws: KeyFileError.wrongOwner(path: path, owner: 65534, user: 0)) { _ = try keystore.unwrapKey(for: tenant("acme")) }
            #expect(chown(path, 0, 0) == 0)
        }
        _ = try keystore.unwrapKey(for: tenant("acme"))
    }

    /// The old `requirePrivate` used stat(), which follows links: a link to a valid keystore
    /// copy anywhere was believed.
    @Test func keystoreBehindASymbolicLinkIsRefused() throws {
        let keystore = try populated()
        let copy = "\(directory.path)/keystore-copy.json"
        try FileSystem.writeAtomically(try editor.bytes(), to: copy, mode: 0o600)
        try FileSystem.removeFile(editor.path)
        #expect(symlink(copy, editor.path) == 0)
        #expect(throws: KeyFileError.symbolicLink(path: editor.path)) { _ = try keystore.unwrapKey(for: tenant("acme")) }
        #expect(KeyFileError.symbolicLink(path: editor.path).isIntegrityViolation)
    }

    @Test func kekBehindASymbolicLinkIsRefused() throws {
        let keystore = try populated()
        let moved = "\(directory.path)/moved.kek"
        #expect(rename("\(kek)/epoch-000001.kek", moved) == 0)
        #expect(symlink(moved, "\(kek)/epoch-000001.kek") == 0)
        #expect(throws: KeyFileError.symbolicLink(path: "\(kek)/epoch-000001.kek")) { _ = try keystore.unwrapKey(for: tenant("acme")) }
    }

    @Test func kekWithASecondHardLinkIsRefused() throws {
        let keystore = try populated()
        #expect(link("\(kek)/epoch-000001.kek", "\(directory.path)/kek-copy") == 0)
        #expect(throws: KeyFileError.multipleLinks(path: "\(kek)/epoch-000001.kek", count: 2)) {
            _ = try keystore.unwrapKey(for: tenant("acme"))
        }
    }

    /// The old destruction of a stray epoch opened the name and wrote zeros into whatever a
    /// link there pointed at. Opening the keystore destroys epochs other than its own: the
    /// link goes, its target stays as it was.
    @Test func strayEpochLinkIsRemovedWithoutWritingThroughIt() throws {
        _ = try populated()
        let precious = "\(directory.path)/precious.db"
        try FileSystem.writeAtomically([UInt8](repeating: 0x5A, count: 4096), to: precious, mode: 0o600)
        #expect(symlink(precious, "\(kek)/epoch-000002.kek") == 0)
        #expect(try provider.epochs() == [KEKEpoch(1), KEKEpoch(2)])
        let keystore = try Keystore(directory: keys, provider: provider)
        #expect(try provider.epochs() == [KEKEpoch(1)])
        #expect(try FileSystem.readFile(precious) == [UInt8](repeating: 0x5A, count: 4096))
        _ = try keystore.unwrapKey(for: tenant("acme"))
    }

    @Test func epochFilesAreRecognisedOnlyUnderTheirExactName() throws {
        _ = try populated()
        for name in ["epoch-+2.kek", "epoch-2.kek", "epoch-0000003.kek", "epoch-000000.kek"] {
            try FileSystem.writeAtomically([1], to: "\(kek)/\(name)")
        }
        #expect(try provider.epochs() == [KEKEpoch(1)])
    }

    // MARK: The lock

    @Test func lockFileBehindASymbolicLinkIsRefusedAndNothingChanges() throws {
        let keystore = try populated()
        try FileSystem.removeFile("\(keys)/keystore.lock")
        let target = "\(directory.path)/created-elsewhere"
        #expect(symlink(target, "\(keys)/keystore.lock") == 0)
        let before = try editor.snapshot()
        #expect(throws: KeyFileError.symbolicLink(path: "\(keys)/keystore.lock")) { try keystore.createKey(for: tenant("globex")) }
        #expect(throws: KeyFileError.symbolicLink(path: "\(keys)/keystore.lock")) { try keystore.rotate() }
        #expect(!FileSystem.exists(target))
        #expect(try editor.snapshot() == before)
    }
}
