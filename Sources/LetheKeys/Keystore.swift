import Foundation
import LetheCrypto
import LetheStore
import Synchronization

/// The tenants' DEKs, wrapped under the current KEK epoch, and the ratchet that makes
/// crypto-shredding survive copies of the keystore.
///
/// Revoking a tenant is a ratchet, in this order:
/// 1. create the KEK of epoch e+1;
/// 2. write a new keystore without the tenant, every other DEK re-wrapped under e+1
///    (atomically: this rename is the commit point);
/// 3. destroy the KEK of epoch e.
/// A keystore copied before the revocation is wrapped under e, whose KEK no longer exists, so
/// it cannot yield the revoked DEK. A crash between steps leaves a keystore that loads: before
/// step 2 the old keystore and its KEK are intact (the orphan KEK e+1 is destroyed at the next
/// open); after step 2 the new keystore and its KEK are intact (the stale KEK e is destroyed at
/// the next open). Mutations hold `keystore.lock`, so two processes never interleave.
///
/// Every read checks the key directory and `keystore.json` through `KeyDirectory` and
/// verifies the whole file (canonical form, every field, MAC) before anything is believed, so
/// a damaged keystore stops a ratchet before it changes anything.
public final class Keystore: Sendable {
    public let directory: String
    public let provider: KEKProvider
    private let clock: Clock
    /// Called between the ratchet's steps with the step's name; tests make it throw to
    /// simulate a crash there. Production passes `FaultPoint.reach`.
    private let faultHook: @Sendable (String) throws -> Void
    /// The file `read` verified last, and which file it was.
    private let verified = Mutex<(identity: KeyDirectory.FileIdentity, file: KeystoreFile)?>(nil)

    static let fileName = "keystore.json"
    static let lockName = "keystore.lock"
    public var path: String { "\(directory)/\(Self.fileName)" }

    /// Opens an initialized keystore, migrates a v1 file to v2 (under the lock, once), and
    /// completes any ratchet a crash interrupted.
    public init(
        directory: String, provider: KEKProvider, clock: Clock = SystemClock(),
        faultHook: @escaping @Sendable (String) throws -> Void = { FaultPoint.reach($0) }
    ) throws {
        self.directory = directory
        self.provider = provider
        self.clock = clock
        self.faultHook = faultHook
        // Read and parsed once: at 10,000 tenants, decoding the keystore is most of what a
        // command that opens one repository costs.
        let stored: KeystoreFile.Stored
        let identity: KeyDirectory.FileIdentity
        do {
            let read = try KeyDirectory(directory).read(Self.fileName, limit: 64 << 20, unlessStill: nil)
            guard let bytes = read.bytes else { throw KeyError.notInitialized(directory: directory) }
            (stored, identity) = (try KeystoreFile.decode(bytes, path: "\(directory)/\(Self.fileName)"), read.identity)
        } catch let error as SystemError where error.isNotFound {
            throw KeyError.notInitialized(directory: directory)
        }
        // Named before anything tries the keystore's KEK: a keystore put back from before the
        // last ratchet would otherwise read as "KEK epoch 1 is missing".
        if let newest = try provider.epochs().max(), newest > stored.file.epoch, try !provider.epochs().contains(stored.file.epoch) {
            throw KeyError.keystoreRolledBack(path: path, epoch: stored.file.epoch.number, current: newest.number)
        }
        if stored.format == .v1 {
            try withLock { try migrate() }
        } else {
            // What `read` would check; verified here, `read` reuses it while the file is unchanged.
            try verify(stored, covering: stored.authenticatedBytes)
            verified.withLock { $0 = (identity, stored.file) }
        }
        let file = try read()
        if try provider.epochs() != [file.epoch] {
            _ = try withLock { try completeRatchet(try read()) }
        }
    }

    /// Creates an empty keystore at KEK epoch 1. An existing directory that holds no keystore
    /// and no KEK is set to 0700 if it was looser (see `KeyDirectory.Opening`).
    public static func create(
        directory: String, provider: KEKProvider, clock: Clock = SystemClock()
    ) throws -> Keystore {
        // Refused before anything is touched, the directory's mode included.
        guard !FileSystem.exists("\(directory)/\(fileName)"), try provider.epochs().isEmpty else {
            throw KeyError.alreadyInitialized(directory: directory)
        }
        let keys = try KeyDirectory(directory, opening: .creatingOrTightening)
        try provider.createEpoch(KEKEpoch(1))
        let file = KeystoreFile(epoch: KEKEpoch(1), tenants: [:])
        let bytes = file.encoded(mac: try provider.authenticate(file.authenticatedBytes, epoch: file.epoch))
        try bytes.withUnsafeBytes { try keys.write($0, to: fileName) }
        return try Keystore(directory: directory, provider: provider, clock: clock)
    }

    // MARK: Reading

    /// The epoch, the tenant count and any KEK epochs awaiting destruction. Never key bytes.
    public func status() throws -> KeystoreStatus {
        let file = try read()
        return KeystoreStatus(
            epoch: file.epoch, epochsPresent: try provider.epochs(),
            tenantKeys: file.tenants.count, keystorePath: path, kekLocation: provider.location)
    }

    /// The tenants that hold a DEK.
    public func tenants() throws -> [TenantID] {
        try read().tenants.keys.sorted()
    }

    /// The public facts about a tenant's DEK, or nil if it has none.
    public func keyInfo(for tenant: TenantID) throws -> KeyInfo? {
        let file = try read()
        return file.tenants[tenant].map { KeyInfo(tenant: tenant, dekID: $0.dekID, commitment: $0.commitment, epoch: file.epoch) }
    }

    /// The tenant's DEK, unwrapped and checked against its commitment.
    public func unwrapKey(for tenant: TenantID) throws -> DataEncryptionKey {
        let file = try read()
        guard let entry = file.tenants[tenant] else { throw KeyError.noTenantKey(tenant) }
        return try unwrap(entry, tenant: tenant, epoch: file.epoch)
    }

    // MARK: Changing

    /// Creates a fresh DEK for `tenant` and stores it wrapped under the current epoch.
    @discardableResult
    public func createKey(for tenant: TenantID) throws -> KeyInfo {
        try createKeys(for: [tenant])[0]
    }

    /// Creates a fresh DEK for each of `tenants` in one write of the keystore (a bulk import
    /// of 10,000 tenants rewrites the file once, not 10,000 times). None may hold a key yet.
    @discardableResult
    public func createKeys(for tenants: [TenantID]) throws -> [KeyInfo] {
        guard !tenants.isEmpty else { return [] }
        return try withLock {
            var file = try read()
            let created = Timestamp.format(clock.now())
            var infos: [KeyInfo] = []
            for tenant in tenants {
                guard file.tenants[tenant] == nil else { throw KeyError.tenantKeyExists(tenant) }
                let dekID = "dek-" + Hex.encode(try SystemRandom.bytes(count: 8))
                let key = DataEncryptionKey(tenant: tenant, id: dekID, secret: try SystemRandom.secureBytes(count: 32))
                file.tenants[tenant] = try wrap(key, epoch: file.epoch, created: created)
                infos.append(KeyInfo(tenant: tenant, dekID: dekID, commitment: try key.commitment(), epoch: file.epoch))
            }
            try write(file)
            return infos
        }
    }

    /// Removes `tenant`'s DEK and ratchets to a new KEK epoch (see the type's documentation).
    /// Revoking a tenant that holds no key only completes an interrupted ratchet, so a
    /// destruction that crashed part-way can simply run this again.
    @discardableResult
    public func revoke(_ tenant: TenantID) throws -> Ratchet {
        try withLock {
            let file = try completeRatchet(try read())
            guard file.tenants[tenant] != nil else {
                return Ratchet(from: file.epoch, to: file.epoch, revoked: nil)
            }
            return try ratchet(file, removing: tenant)
        }
    }

    /// Moves every DEK to a new KEK epoch and destroys the old one, without revoking anyone.
    @discardableResult
    public func rotate() throws -> Ratchet {
        try withLock { try ratchet(try completeRatchet(try read()), removing: nil) }
    }

    private func ratchet(_ file: KeystoreFile, removing tenant: TenantID?) throws -> Ratchet {
        let old = file.epoch
        let new = old.next
        // Unwrap everything before anything changes: a damaged entry stops the ratchet here,
        // with the old keystore and KEK untouched. The revoked key is unwrapped too, so that
        // the commitment reported for it is checked against the key itself.
        var kept: [(DataEncryptionKey, String)] = []
        var revoked: KeyInfo?
        for (id, entry) in file.sortedTenants {
            let key = try unwrap(entry, tenant: id, epoch: old)
            if id == tenant {
                revoked = KeyInfo(tenant: id, dekID: entry.dekID, commitment: entry.commitment, epoch: old)
            } else {
                kept.append((key, entry.created))
            }
        }
        try provider.createEpoch(new)
        try faultHook("ratchet.epoch-created")

        var next = KeystoreFile(epoch: new, tenants: [:])
        for (key, created) in kept {
            next.tenants[key.tenant] = try wrap(key, epoch: new, created: created)
        }
        try write(next)
        try faultHook("ratchet.keystore-written")

        try provider.destroyEpoch(old)
        try faultHook("ratchet.old-epoch-destroyed")
        return Ratchet(from: old, to: new, revoked: revoked)
    }

    /// Destroys every KEK epoch other than the keystore's own: older ones left by a ratchet
    /// interrupted after its commit point, newer ones left by one interrupted before it.
    @discardableResult
    private func completeRatchet(_ file: KeystoreFile) throws -> KeystoreFile {
        let present = try provider.epochs()
        guard present.contains(file.epoch) else {
            if let newest = present.max(by: { $0.number < $1.number }), newest.number > file.epoch.number {
                throw KeyError.keystoreRolledBack(path: path, epoch: file.epoch.number, current: newest.number)
            }
            throw KeyError.kekMissing(epoch: file.epoch.number, location: provider.location)
        }
        for epoch in present where epoch != file.epoch {
            try provider.destroyEpoch(epoch)
        }
        return file
    }

    // MARK: File and key handling

    /// The keystore file, parsed and validated, its MAC not yet verified.
    private func readStored() throws -> KeystoreFile.Stored {
        try KeystoreFile.decode(try KeyDirectory(directory).read(Self.fileName, limit: 64 << 20), path: path)
    }

    /// The keystore file, verified: v2, canonical, every field valid, MAC correct.
    ///
    /// The file verified last is kept with its identity and reused while the key directory
    /// still holds that same file: every tenant's repository opens through here, and parsing
    /// and authenticating a keystore of 10,000 tenants for each of them made a night
    /// quadratic. The directory and file checks are still made on every call, and any write
    /// (a rename, here or by another process) changes the identity.
    private func read() throws -> KeystoreFile {
        let known = verified.withLock { $0 }
        let (bytes, identity) = try KeyDirectory(directory).read(Self.fileName, limit: 64 << 20, unlessStill: known?.identity)
        guard let bytes else { return known!.file }
        let stored = try KeystoreFile.decode(bytes, path: path)
        guard stored.format == .v2 else {
            throw KeyError.keystoreDamaged(path: path, reason: "it is a v1 keystore that appeared after it was opened")
        }
        try verify(stored, covering: stored.authenticatedBytes)
        verified.withLock { $0 = (identity, stored.file) }
        return stored.file
    }

    /// Rewrites a v1 keystore as v2 after verifying it under the v1 MAC rule. Runs under the
    /// lock and reads again: another process may have migrated it meanwhile.
    private func migrate() throws {
        let stored = try readStored()
        guard stored.format == .v1 else { return }
        try verify(stored, covering: LegacyKeystoreFormat.authenticatedBytes(stored.file))
        try write(stored.file)
    }

    /// Compares the stated MAC with the MAC of `message`, in constant time.
    private func verify(_ stored: KeystoreFile.Stored, covering message: [UInt8]) throws {
        let expected = try provider.authenticate(message, epoch: stored.file.epoch)
        guard ConstantTime.equals(stored.mac, expected) else {
            let rule = stored.format == .v1 ? " (v1 rule)" : ""
            throw KeyError.keystoreDamaged(path: path, reason: "its MAC does not verify under KEK epoch \(stored.file.epoch)\(rule)")
        }
    }

    private func write(_ file: KeystoreFile) throws {
        verified.withLock { $0 = nil }
        let bytes = file.encoded(mac: try provider.authenticate(file.authenticatedBytes, epoch: file.epoch))
        try bytes.withUnsafeBytes { try KeyDirectory(directory).write($0, to: Self.fileName) }
    }

    private func wrap(_ key: DataEncryptionKey, epoch: KEKEpoch, created: String) throws -> KeystoreFile.Entry {
        let context = KeystoreFile.wrapContext(tenant: key.tenant.rawValue, dekID: key.id, epoch: epoch)
        let wrapped = try provider.wrap(key.secret, context: context, epoch: epoch)
        return KeystoreFile.Entry(
            dekID: key.id, wrapped: Data(wrapped).base64EncodedString(), commitment: try key.commitment(), created: created)
    }

    private func unwrap(_ entry: KeystoreFile.Entry, tenant: TenantID, epoch: KEKEpoch) throws -> DataEncryptionKey {
        // Validated when the file was read: canonical base64 of 40 bytes.
        let wrapped = Array(Data(base64Encoded: entry.wrapped) ?? Data())
        let context = KeystoreFile.wrapContext(tenant: tenant.rawValue, dekID: entry.dekID, epoch: epoch)
        let secret: SecureBytes
        do {
            secret = try provider.unwrap(wrapped, context: context, epoch: epoch)
        } catch CryptoError.authenticationFailure {
            throw KeyError.unwrapFailed(tenant, epoch: epoch.number)
        }
        let key = DataEncryptionKey(tenant: tenant, id: entry.dekID, secret: secret)
        guard secret.count == 32, let stated = Hex.decode(entry.commitment),
              ConstantTime.equals(stated, Hex.decode(try key.commitment()) ?? []) else {
            throw KeyError.unwrapFailed(tenant, epoch: epoch.number)
        }
        return key
    }

    private func withLock<T>(_ body: () throws -> T) throws -> T {
        let lock = try FileLock.acquire(Self.lockName, in: try KeyDirectory(directory))
        defer { withExtendedLifetime(lock) {} }
        return try body()
    }
}

/// Public facts about a tenant's DEK.
public struct KeyInfo: Equatable, Sendable {
    public let tenant: TenantID
    public let dekID: String
    public let commitment: String
    public let epoch: KEKEpoch
}

/// What a revocation or rotation did: the epochs before and after, and the key revoked.
public struct Ratchet: Equatable, Sendable {
    public let from: KEKEpoch
    public let to: KEKEpoch
    /// The entry this ratchet actually removed (tenant, DEK id, the commitment checked against
    /// the unwrapped key, and the epoch it was wrapped under), so that a destruction report
    /// carries the commitment of the key really revoked; nil for a rotation, or a revocation
    /// that found no key.
    public let revoked: KeyInfo?
}

public struct KeystoreStatus: Equatable, Sendable {
    public let epoch: KEKEpoch
    /// Epochs with a KEK; anything but `[epoch]` means a ratchet awaits completion.
    public let epochsPresent: [KEKEpoch]
    public let tenantKeys: Int
    public let keystorePath: String
    public let kekLocation: String
}
