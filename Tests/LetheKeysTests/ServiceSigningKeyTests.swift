import Glibc
import LetheCrypto
import LetheKeys
import LetheStore
import Testing

@Suite struct ServiceSigningKeyTests {
    let directory = TestDirectory()

    @Test func createdKeyLoadsBackAndSignsVerifiably() throws {
        let created = try ServiceSigningKey.create(in: directory.path)
        let loaded = try ServiceSigningKey.load(from: directory.path)
        #expect(created.publicKey == loaded.publicKey)
        let message = Array("report".utf8)
        #expect(try ServiceSigningKey.loadPublic(from: directory.path).isValidSignature(loaded.sign(message), for: message))
    }

    @Test func privateKeyFileIsOwnerOnlyAndPublicIsReadable() throws {
        _ = try ServiceSigningKey.create(in: directory.path)
        var info = stat()
        stat(ServiceSigningKey.privatePath(in: directory.path), &info)
        #expect(info.st_mode & 0o777 == 0o600)
        stat(ServiceSigningKey.publicPath(in: directory.path), &info)
        #expect(info.st_mode & 0o777 == 0o644)
    }

    @Test func secondCreateIsRefused() throws {
        _ = try ServiceSigningKey.create(in: directory.path)
        #expect(throws: KeyError.alreadyInitialized(directory: directory.path)) {
            _ = try ServiceSigningKey.create(in: directory.path)
        }
    }

    @Test func privateKeyReadableByGroupIsRefused() throws {
        _ = try ServiceSigningKey.create(in: directory.path)
        let path = ServiceSigningKey.privatePath(in: directory.path)
        chmod(path, 0o640)
        #expect(throws: KeyFileError.insecureFileMode(path: path, mode: 0o640)) { _ = try ServiceSigningKey.load(from: directory.path) }
    }

    /// A link to a perfectly good private key elsewhere is still refused: the key must be in
    /// the key directory itself.
    @Test func privateKeyBehindASymbolicLinkIsRefused() throws {
        let elsewhere = "\(directory.path)/elsewhere"
        _ = try ServiceSigningKey.create(in: elsewhere)
        let keys = "\(directory.path)/keys"
        try FileSystem.makeDirectories(keys)
        #expect(symlink(ServiceSigningKey.privatePath(in: elsewhere), ServiceSigningKey.privatePath(in: keys)) == 0)
        #expect(throws: KeyFileError.symbolicLink(path: ServiceSigningKey.privatePath(in: keys))) {
            _ = try ServiceSigningKey.load(from: keys)
        }
    }

    @Test func createInADirectoryOthersMayEnterIsRefused() throws {
        let keys = "\(directory.path)/keys"
        try FileSystem.makeDirectories(keys)
        chmod(keys, 0o755)
        #expect(throws: KeyFileError.insecureDirectoryMode(path: keys, mode: 0o755)) { _ = try ServiceSigningKey.create(in: keys) }
        #expect(!FileSystem.exists(ServiceSigningKey.privatePath(in: keys)))
    }

    /// What `lethe keys status` relies on: the fingerprint comes from the private key, and a
    /// public file that is not its public half is an integrity error naming that file.
    @Test func replacedPublicFileIsDetectedAndTheFingerprintComesFromThePrivateKey() throws {
        let created = try ServiceSigningKey.create(in: directory.path)
        try created.requireMatchingPublicFile(in: directory.path)
        let other = "\(directory.path)/other"
        let impostor = try ServiceSigningKey.create(in: other)
        let publicPath = ServiceSigningKey.publicPath(in: directory.path)
        try FileSystem.writeAtomically(try FileSystem.readFile(ServiceSigningKey.publicPath(in: other)), to: publicPath, mode: 0o644)

        let loaded = try ServiceSigningKey.load(from: directory.path)
        #expect(try loaded.fingerprint == created.fingerprint)
        #expect(try loaded.fingerprint != impostor.fingerprint)
        #expect(throws: KeyError.publicKeyMismatch(path: publicPath, privatePath: ServiceSigningKey.privatePath(in: directory.path))) {
            try loaded.requireMatchingPublicFile(in: directory.path)
        }
        try FileSystem.writeAtomically(Array("not a key".utf8), to: publicPath, mode: 0o644)
        #expect(throws: KeyError.publicKeyMismatch(path: publicPath, privatePath: ServiceSigningKey.privatePath(in: directory.path))) {
            try loaded.requireMatchingPublicFile(in: directory.path)
        }
        try FileSystem.removeFile(publicPath)
        #expect(throws: KeyError.publicKeyMismatch(path: publicPath, privatePath: ServiceSigningKey.privatePath(in: directory.path))) {
            try loaded.requireMatchingPublicFile(in: directory.path)
        }
    }
}
