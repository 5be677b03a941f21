import Foundation
import LetheCrypto
import LetheStore

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
public final class Keystore: Sendable {
    public let directory: String
    public let provider: KEKProvider
    private let clock: Clock
    /// Called between the ratchet's steps with the step's name; tests make it throw to
    /// simulate a crash there. Production passes `FaultPoint.reach`.
    private let faultHook: @Sendable (String) throws -> Void

    public var path: String { "\(directory)/keystore.json" }
    private var lockPath: String { "\(directory)/keystore.lock" }

    /// Opens an initialized keystore and completes any ratchet a crash interrupted.
    public init(
        directory: String, provider: KEKProvider, clock: Clock = SystemClock(),
        faultHook: @escaping @Sendable (String) throws -> Void = { FaultPoint.reach($0) }
    ) throws {
        self.directory = directory
        self.provider = provider
        self.clock = clock
        self.faultHook = faultHook
        guard FileSystem.exists(path) else { throw KeyError.notInitialized(directory: directory) }
        let file = try read()
        if try provider.epochs() != [file.epoch] {
            _ = try withLock { try completeRatchet(try read()) }
        }
    }

    /// Creates an empty keystore at KEK epoch 1.
    public static func create(
        directory: String, provider: KEKProvider, clock: Clock = SystemClock()
    ) throws -> Keystore {
        try FileSystem.makeDirectories(directory, mode: 0o700)
        guard !FileSystem.exists("\(directory)/keystore.json"), try provider.epochs().isEmpty else { throw KeyError.alreadyInitialized(directory: directory) }
        try provider.createEpoch(KEKEpoch(1))
        var file = KeystoreFile(format: KeystoreFile.formatName, epoch: KEKEpoch(1), tenants: [:], mac: "")
        file.mac = Hex.encode(try provider.authenticate(file.authenticatedBytes, epoch: file.epoch))
        try FileSystem.writeAtomically(try file.encoded(), to: "\(directory)/keystore.json", mode: 0o600)
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
        try read().tenants.keys.sorted().map { try TenantID($0) }
    }

    /// The public facts about a tenant's DEK, or nil if it has none.
    public func keyInfo(for tenant: TenantID) throws -> KeyInfo? {
        let file = try read()
        return file.tenants[tenant.rawValue].map { KeyInfo(tenant: tenant, dekID: $0.dekID, commitment: $0.commitment, epoch: file.epoch) }
    }

    /// The tenant's DEK, unwrapped and checked against its commitment.
    public func unwrapKey(for tenant: TenantID) throws -> DataEncryptionKey {
        let file = try read()
        guard let entry = file.tenants[tenant.rawValue] else { throw KeyError.noTenantKey(tenant) }
        return try unwrap(entry, tenant: tenant, epoch: file.epoch)
    }

    // MARK: Changing

    /// Creates a fresh DEK for `tenant` and stores it wrapped under the current epoch.
    @discardableResult
    public func createKey(for tenant: TenantID) throws -> KeyInfo {
        try withLock {
            var file = try read()
            guard file.tenants[tenant.rawValue] == nil else { throw KeyError.tenantKeyExists(tenant) }
            let dekID = "dek-" + Hex.encode(try SystemRandom.bytes(count: 8))
            let key = DataEncryptionKey(tenant: tenant, id: dekID, secret: try SystemRandom.secureBytes(count: 32))
            file.tenants[tenant.rawValue] = try wrap(key, epoch: file.epoch, created: Timestamp.format(clock.now()))
            try write(file)
            return KeyInfo(tenant: tenant, dekID: dekID, commitment: try key.commitment(), epoch: file.epoch)
        }
    }

    /// Removes `tenant`'s DEK and ratchets to a new KEK epoch (see the type's documentation).
    /// Revoking a tenant that holds no key only completes an interrupted ratchet, so a
    /// destruction that crashed part-way can simply run this again.
    @discardableResult
    public func revoke(_ tenant: TenantID) throws -> Ratchet {
        try withLock {
            let file = try completeRatchet(try read())
            guard file.tenants[tenant.rawValue] != nil else {
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
        // Unwrap everything that stays before anything changes: a damaged entry stops the
        // ratchet here, with the old keystore and KEK untouched.
        var kept: [(TenantID, DataEncryptionKey, String)] = []
        for (name, entry) in file.tenants where name != tenant?.rawValue {
            let id = try TenantID(name)
            kept.append((id, try unwrap(entry, tenant: id, epoch: old), entry.created))
        }
        try provider.createEpoch(new)
        try faultHook("ratchet.epoch-created")

        var next = KeystoreFile(format: KeystoreFile.formatName, epoch: new, tenants: [:], mac: "")
        for (id, key, created) in kept {
            next.tenants[id.rawValue] = try wrap(key, epoch: new, created: created)
        }
        try write(next)
        try faultHook("ratchet.keystore-written")

        try provider.destroyEpoch(old)
        try faultHook("ratchet.old-epoch-destroyed")
        return Ratchet(from: old, to: new, revoked: tenant)
    }

    /// Destroys every KEK epoch other than the keystore's own: older ones left by a ratchet
    /// interrupted after its commit point, newer ones left by one interrupted before it.
    @discardableResult
    private func completeRatchet(_ file: KeystoreFile) throws -> KeystoreFile {
        let present = try provider.epochs()
        guard present.contains(file.epoch) else {
            throw KeyError.kekMissing(epoch: file.epoch.number, location: provider.location)
        }
        for epoch in present where epoch != file.epoch {
            try provider.destroyEpoch(epoch)
        }
        return file
    }

    // MARK: File and key handling

    private func read() throws -> KeystoreFile {
        try FileSystem.requirePrivate(path)
        let file = try KeystoreFile.decode(try FileSystem.readFile(path, limit: 64 << 20), path: path)
        let expected = try provider.authenticate(file.authenticatedBytes, epoch: file.epoch)
        guard let mac = Hex.decode(file.mac), ConstantTime.equals(mac, expected) else {
            throw KeyError.keystoreDamaged(path: path, reason: "its MAC does not verify under KEK epoch \(file.epoch)")
        }
        return file
    }

    private func write(_ file: KeystoreFile) throws {
        var file = file
        file.mac = Hex.encode(try provider.authenticate(file.authenticatedBytes, epoch: file.epoch))
        try FileSystem.writeAtomically(try file.encoded(), to: path, mode: 0o600)
    }

    private func wrap(_ key: DataEncryptionKey, epoch: KEKEpoch, created: String) throws -> KeystoreFile.Entry {
        let context = KeystoreFile.wrapContext(tenant: key.tenant.rawValue, dekID: key.id, epoch: epoch)
        let wrapped = try provider.wrap(key.secret, context: context, epoch: epoch)
        return KeystoreFile.Entry(
            dekID: key.id, wrapped: Data(wrapped).base64EncodedString(), commitment: try key.commitment(), created: created)
    }

    private func unwrap(_ entry: KeystoreFile.Entry, tenant: TenantID, epoch: KEKEpoch) throws -> DataEncryptionKey {
        guard let wrapped = Data(base64Encoded: entry.wrapped) else {
            throw KeyError.keystoreDamaged(path: path, reason: "the entry of \(tenant) is not base64")
        }
        let context = KeystoreFile.wrapContext(tenant: tenant.rawValue, dekID: entry.dekID, epoch: epoch)
        let secret: SecureBytes
        do {
            secret = try provider.unwrap(Array(wrapped), context: context, epoch: epoch)
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
        let lock = try FileLock.acquire(lockPath)
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

/// What a revocation or rotation did: the epochs before and after, and who was revoked.
public struct Ratchet: Equatable, Sendable {
    public let from: KEKEpoch
    public let to: KEKEpoch
    public let revoked: TenantID?
}

public struct KeystoreStatus: Equatable, Sendable {
    public let epoch: KEKEpoch
    /// Epochs with a KEK; anything but `[epoch]` means a ratchet awaits completion.
    public let epochsPresent: [KEKEpoch]
    public let tenantKeys: Int
    public let keystorePath: String
    public let kekLocation: String
}
