/// The first keystore format, `lethe-keystore-v1`, kept only so that a keystore written by an
/// earlier Lethe is verified once under its own MAC rule and rewritten as v2 (see
/// `Keystore.init`).
///
/// Its MAC input was text: the format, `epoch N`, then one line per tenant of space-separated
/// fields, none of them validated. That is ambiguous: a tenant's whole line moved into another
/// entry's `created` string left the MAC valid and the tenant's key gone. A v1 file is
/// therefore migrated only if every field also passes the v2 validation, which refuses that
/// edit (a creation time must be a timestamp).
package enum LegacyKeystoreFormat {
    static let formatName = "lethe-keystore-v1"

    /// The v1 MAC input: `lethe-keystore-v1\nepoch N\n`, then per tenant in order
    /// `tenant dekID wrapped commitment created\n`.
    package static func authenticatedBytes(_ file: KeystoreFile) -> [UInt8] {
        var text = "\(formatName)\nepoch \(file.epoch.number)\n"
        for (tenant, entry) in file.sortedTenants {
            text += "\(tenant.rawValue) \(entry.dekID) \(entry.wrapped) \(entry.commitment) \(entry.created)\n"
        }
        return Array(text.utf8)
    }
}
