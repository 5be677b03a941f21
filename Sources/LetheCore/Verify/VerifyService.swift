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

    /// Verifies each tenant; `readPacks` picks the packs whose data is decrypted.
    public func verify(_ tenants: [TenantID], readPacks: @escaping (TenantID, PackID) -> Bool) -> [Result] {
        tenants.map { tenant in
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
    }
}
