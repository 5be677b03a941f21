import LetheStore

/// What can go wrong with keys, each case naming what the operator has to look at.
public enum KeyError: KindedError, Equatable, Sendable, CustomStringConvertible {
    /// The key directory has not been initialized (`lethe init`).
    case notInitialized(directory: String)
    /// `lethe init` on a key directory that already holds keys.
    case alreadyInitialized(directory: String)
    /// The service signing key is gone from an initialized key directory.
    case signingKeyMissing(path: String)
    /// The keystore names KEK epoch `epoch`, but the KEK provider has no such key.
    case kekMissing(epoch: Int, location: String)
    /// The keystore file does not parse, is not in canonical form, has an invalid field, or its
    /// MAC does not verify under its KEK.
    case keystoreDamaged(path: String, reason: String)
    /// No DEK is held for this tenant (never created, or revoked at destruction).
    case noTenantKey(TenantID)
    /// A DEK already exists for this tenant.
    case tenantKeyExists(TenantID)
    /// A wrapped DEK did not unwrap: the keystore or the KEK was altered or swapped.
    case unwrapFailed(TenantID, epoch: Int)
    /// The keystore is at a KEK epoch older than the provider's keys: `keystore.json` was put
    /// back from a copy made before the installation's last ratchet (a destruction or rotation).
    case keystoreRolledBack(path: String, epoch: Int, current: Int)
    /// The store holds the tenant's record but the keystore no key for it: the keystore is
    /// older than the tenant (put back from an older copy) or was edited.
    case keystoreLacksTenant(TenantID, path: String)
    /// A key file holds something other than what it should.
    case malformedKeyFile(path: String, reason: String)
    /// `signing-key.pub.pem` is missing, unreadable, or not the public half of `signing-key.pem`.
    case publicKeyMismatch(path: String, privatePath: String)

    public var kind: ErrorKind {
        switch self {
        case .notInitialized, .alreadyInitialized, .tenantKeyExists, .signingKeyMissing: return .usage
        case .keystoreDamaged, .unwrapFailed, .malformedKeyFile, .publicKeyMismatch, .keystoreRolledBack, .keystoreLacksTenant: return .integrity
        case .kekMissing, .noTenantKey: return .failed
        }
    }

    public var description: String {
        switch self {
        case .notInitialized(let directory):
            return "no keys in \(directory): run `lethe init` first"
        case .alreadyInitialized(let directory):
            return "\(directory) already holds Lethe keys; refusing to overwrite them"
        case .signingKeyMissing(let path):
            return "the service signing key \(path) is missing: nothing can be logged or signed without it; restore it from the key directory's backup"
        case .kekMissing(let epoch, let location):
            return "KEK epoch \(epoch) is missing from \(location): tenant keys cannot be unwrapped"
        case .keystoreDamaged(let path, let reason):
            return "keystore \(path) is damaged: \(reason)"
        case .noTenantKey(let tenant):
            return "no key is held for tenant \(tenant) (never created, or revoked when it was destroyed)"
        case .tenantKeyExists(let tenant):
            return "tenant \(tenant) already has a key"
        case .unwrapFailed(let tenant, let epoch):
            return "the key of tenant \(tenant) does not unwrap under KEK epoch \(epoch): keystore or KEK altered"
        case .keystoreRolledBack(let path, let epoch, let current):
            return "keystore \(path) is at KEK epoch \(epoch), older than the installation's last ratchet (epoch \(current)): "
                + "it was put back from an older copy, and its keys cannot be unwrapped; restore the current keystore.json"
        case .keystoreLacksTenant(let tenant, let path):
            return "the store holds tenant \(tenant)'s record but keystore \(path) holds no key for it: the keystore is older "
                + "than the tenant (put back from an older copy?) or was edited; restore the current keystore.json"
        case .malformedKeyFile(let path, let reason):
            return "key file \(path) is malformed: \(reason)"
        case .publicKeyMismatch(let path, let privatePath):
            return "\(path) does not hold the public key of \(privatePath) (missing, unreadable or another key), so "
                + "reports would not verify against it; find out who changed it, then recreate it with "
                + "`openssl pkey -in \(privatePath) -pubout -out \(path)`"
        }
    }
}
