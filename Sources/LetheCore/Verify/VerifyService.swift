import Foundation
import LetheRepository
import LetheStore

/// `lethe verify`: checks tenants' repositories from the store alone.
public struct VerifyService: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    public struct Result: Codable, Sendable {
        public let tenant: String
        public let report: Checker.Report
        /// Set when the repository could not be opened at all.
        public let error: String?

        public var isClean: Bool { error == nil && report.isClean }
    }

    /// Verifies each tenant; `readPacks` picks the packs whose data is decrypted. The outcome
    /// of each is appended to the audit log.
    public func verify(_ tenants: [TenantID], readPacks: @escaping (TenantID, PackID) -> Bool) throws -> [Result] {
        let results = tenants.map { tenant in
            do {
                let repository = try installation.repository(for: tenant)
                let lock = try TenantLock.acquire(repository, exclusive: false, operation: "verify", clock: installation.clock)
                defer { lock.release() }
                let report = try Checker(repository: repository).run { readPacks(tenant, $0) }
                return Result(tenant: tenant.rawValue, report: report, error: nil)
            } catch {
                return Result(tenant: tenant.rawValue, report: Checker.Report(), error: "\(error)")
            }
        }
        if !results.isEmpty {
            try AuditTrail(installation).record(results.map { result in
                AuditLog.Event("verify", tenant: result.tenant, details: [
                    "packsRead": String(result.report.packsRead),
                    "errors": String(result.report.errors.count + (result.error == nil ? 0 : 1)),
                ])
            })
        }
        return results
    }
}
