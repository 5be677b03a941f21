import Foundation
import Glibc
import LetheCrypto
@testable import LetheKeys
import LetheStore
import Testing

@Suite struct KeystoreTests {
    let directory = TestDirectory()
    var keys: String { "\(directory.path)/keys" }
    var provider: FileKEKProvider { FileKEKProvider(directory: "\(keys)/kek") }

    func tenant(_ name: String) -> TenantID { try! TenantID(name) }

    func secretHex(_ key: DataEncryptionKey) -> String {
        key.secret.withUnsafeBytes { Hex.encode($0) }
    }

    @Test func createdKeystoreStartsAtEpochOneWithNoTenants() throws {
        let keystore = try Keystore.create(directory: keys, provider: provider)
        let status = try keystore.status()
        #expect(status.epoch == KEKEpoch(1))
        #expect(status.epochsPresent == [KEKEpoch(1)])
        #expect(status.tenantKeys == 0)
    }

    @Test func creatingTwiceIsRefusedAndChangesNothing() throws {
        _ = try Keystore.create(directory: keys, provider: provider)
        let before = try FileSystem.readFile("\(keys)/keystore.json")
        #expect(throws: KeyError.alreadyInitialized(directory: keys)) {
            _ = try Keystore.create(directory: keys, provider: provider)
        }
        #expect(try FileSystem.readFile("\(keys)/keystore.json") == before)
    }

    @Test func tenantKeyUnwrapsToTheSameSecretEveryTime() throws {
        let keystore = try Keystore.create(directory: keys, provider: provider)
        let info = try keystore.createKey(for: tenant("acme"))
        let first = try keystore.unwrapKey(for: tenant("acme"))
        let reopened = try Keystore(directory: keys, provider: provider)
        let second = try reopened.unwrapKey(for: tenant("acme"))
        #expect(first.secret.count == 32)
        #expect(secretHex(first) == secretHex(second))
        #expect(first.id == info.dekID)
        #expect(try first.commitment() == info.commitment)
    }

    @Test func distinctTenantsGetDistinctKeys() throws {
        let keystore = try Keystore.create(directory: keys, provider: provider)
        try keystore.createKey(for: tenant("a"))
        try keystore.createKey(for: tenant("b"))
        #expect(try secretHex(keystore.unwrapKey(for: tenant("a"))) != secretHex(keystore.unwrapKey(for: tenant("b"))))
    }

    @Test func secondKeyForATenantIsRefused() throws {
        let keystore = try Keystore.create(directory: keys, provider: provider)
        try keystore.createKey(for: tenant("acme"))
        #expect(throws: KeyError.tenantKeyExists(tenant("acme"))) { try keystore.createKey(for: tenant("acme")) }
    }

    @Test func keystoreFileHoldsNoPlainKeyBytes() throws {
        let keystore = try Keystore.create(directory: keys, provider: provider)
        try keystore.createKey(for: tenant("acme"))
        let secret = secretHex(try keystore.unwrapKey(for: tenant("acme")))
        let file = String(decoding: try FileSystem.readFile("\(keys)/keystore.json"), as: UTF8.self)
        let base64 = try keystore.unwrapKey(for: tenant("acme")).secret.withUnsafeBytes { Data($0).base64EncodedString() }
        #expect(!file.contains(secret))
        #expect(!file.contains(base64))
    }

    @Test func keyFilesAreCreatedOwnerOnly() throws {
        _ = try Keystore.create(directory: keys, provider: provider)
        for path in ["\(keys)/keystore.json", "\(keys)/kek/epoch-000001.kek"] {
            var info = stat()
            #expect(stat(path, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600, "\(path)")
        }
    }

    @Test func keystoreReadableByOthersIsRefused() throws {
        _ = try Keystore.create(directory: keys, provider: provider)
        chmod("\(keys)/keystore.json", 0o640)
        #expect(throws: KeyFileError.insecureFileMode(path: "\(keys)/keystore.json", mode: 0o640)) {
            _ = try Keystore(directory: keys, provider: provider)
        }
    }

    @Test func kekFileReadableByOthersIsRefused() throws {
        let keystore = try Keystore.create(directory: keys, provider: provider)
        try keystore.createKey(for: tenant("acme"))
        chmod("\(keys)/kek/epoch-000001.kek", 0o604)
        #expect(throws: KeyFileError.insecureFileMode(path: "\(keys)/kek/epoch-000001.kek", mode: 0o604)) {
            _ = try keystore.unwrapKey(for: tenant("acme"))
        }
    }

    @Test func entryRemovedInCanonicalFormFailsTheMAC() throws {
        let keystore = try Keystore.create(directory: keys, provider: provider)
        try keystore.createKey(for: tenant("acme"))
        try keystore.createKey(for: tenant("other"))
        // Remove one tenant's entry by hand, spelled exactly as Lethe would, with the old MAC.
        try KeystoreEditor(keys: keys).edit { $0.tenants.removeValue(forKey: tenant("other")) }
        #expect(throws: KeyError.keystoreDamaged(path: "\(keys)/keystore.json", reason: "its MAC does not verify under KEK epoch 1")) {
            _ = try keystore.unwrapKey(for: tenant("acme"))
        }
    }

    @Test func wrappedKeySwappedBetweenTenantsDoesNotUnwrap() throws {
        // The wrap is bound to tenant and DEK id, so moving entries around yields no key even
        // when the keystore MAC is recomputed by someone holding the KEK provider.
        let keystore = try Keystore.create(directory: keys, provider: provider)
        try keystore.createKey(for: tenant("a"))
        try keystore.createKey(for: tenant("b"))
        try KeystoreEditor(keys: keys).edit(reauthenticate: true) { file in
            let a = file.tenants[tenant("a")]!, b = file.tenants[tenant("b")]!
            file.tenants[tenant("a")] = .init(dekID: a.dekID, wrapped: b.wrapped, commitment: a.commitment, created: a.created)
            file.tenants[tenant("b")] = .init(dekID: b.dekID, wrapped: a.wrapped, commitment: b.commitment, created: b.created)
        }
        #expect(throws: KeyError.unwrapFailed(tenant("a"), epoch: 1)) { _ = try keystore.unwrapKey(for: tenant("a")) }
    }
}
