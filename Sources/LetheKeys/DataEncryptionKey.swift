import LetheCrypto
import LetheStore

/// A tenant's data encryption key (DEK): 256 bits from the CSPRNG, the root of every key that
/// protects the tenant's backups. It exists in the clear only in memory, in `SecureBytes`.
public struct DataEncryptionKey: Sendable {
    public let tenant: TenantID
    /// A random public name for this key (`dek-` and 16 hex digits), for reports and logs.
    public let id: String
    public let secret: SecureBytes

    package init(tenant: TenantID, id: String, secret: SecureBytes) {
        self.tenant = tenant
        self.id = id
        self.secret = secret
    }

    /// A commitment to the key that reveals nothing about it:
    /// `HMAC-SHA256(DEK, "lethe/v1/dek-commitment" ‖ 0 ‖ tenant ‖ 0 ‖ id)`, hex. Destruction
    /// reports carry it, so that anyone later holding a copy of a key can tell whether it is
    /// the one that was destroyed, while the report itself leaks nothing.
    public func commitment() throws -> String {
        let message = Array("lethe/v1/dek-commitment".utf8) + [0] + Array(tenant.rawValue.utf8) + [0] + Array(id.utf8)
        return Hex.encode(try HMACSHA256(key: secret).authenticationCode(for: message))
    }
}
