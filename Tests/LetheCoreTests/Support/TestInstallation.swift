import Foundation
import LetheCore
import LetheRepository
import LetheCrypto
import LetheStore

/// A Lethe home in a temporary directory, opened with a clock the test moves, and a small
/// data directory per tenant. Removed when released.
final class TestInstallation {
    let root: String
    let clock: ManualClock
    let installation: Installation

    static let start = Timestamp.parse("2026-01-10T02:00:00Z")!

    init() throws {
        root = NSTemporaryDirectory() + "lethe-core-test-" + UUID().uuidString
        try FileSystem.makeDirectories(root)
        let home = Home(path: "\(root)/home")
        _ = try home.initialize(keysDirectory: "\(root)/keys", storeDirectory: nil)
        clock = ManualClock(TestInstallation.start)
        installation = try Installation(home: home, clock: clock, environment: ["LETHE_ACTOR": "tester"])
    }

    deinit {
        try? FileSystem.removeTree(root)
    }

    /// Adds a tenant whose source is a fresh directory with a couple of files.
    @discardableResult
    func addTenant(_ name: String) throws -> TenantID {
        let id = try TenantID(name)
        let data = "\(root)/data/\(name)"
        try FileSystem.makeDirectories("\(data)/docs")
        try FileSystem.writeAtomically(Array("contract of \(name)\n".utf8), to: "\(data)/docs/contract.txt", mode: 0o644)
        try FileSystem.writeAtomically(Array(repeating: 7, count: 70_000), to: "\(data)/scan.bin", mode: 0o644)
        _ = try TenantRegistry(installation).add(id: id, name: name.capitalized, sources: [TenantSource(kind: .directory, location: data)])
        return id
    }

    func dataDirectory(_ tenant: TenantID) -> String { "\(root)/data/\(tenant.rawValue)" }

    func backup(_ tenant: TenantID) throws -> TenantBackupResult {
        try BackupService(installation: installation).run([tenant])[0]
    }

    func advance(days: Double) {
        clock.advance(by: days * 86_400)
    }
}

extension TestInstallation {
    /// Makes `authorizers` the registry in force: one proposal adding them all (with `policy`
    /// and a grace period of `graceHours`), signed by each of them.
    func registerAuthorizers(
        _ authorizers: [(name: String, role: Authorizer.Role, key: Ed25519.PrivateKey)],
        policy: ApprovalPolicy = .standard, graceHours: Int = 24
    ) throws {
        let registry = AuthorizerRegistry(installation)
        for authorizer in authorizers {
            _ = try registry.proposeAdd(name: authorizer.name, role: authorizer.role, publicKeyPEM: try authorizer.key.publicKey.pemRepresentation)
        }
        _ = try registry.proposePolicy(required: policy.required, minimumDPOs: policy.minimumDPOs, gracePeriodHours: graceHours)
        for authorizer in authorizers { _ = try registry.sign(privateKey: authorizer.key) }
    }
}
