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
        chmod(ServiceSigningKey.privatePath(in: directory.path), 0o640)
        #expect(throws: InsecurePermissions.self) { _ = try ServiceSigningKey.load(from: directory.path) }
    }
}
