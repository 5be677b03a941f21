import Foundation
import LetheRepository
import LetheStore

/// The tenant lifecycle's rules: what each state allows.
public struct Lifecycle: Sendable {
    let installation: Installation

    public init(_ installation: Installation) {
        self.installation = installation
    }

    /// Backups are for active tenants only.
    public func requireBackupAllowed(_ record: TenantRecord) throws {
        guard record.state == .active else {
            throw LetheError.refused(
                "tenant \(record.id) was offboarded on \(record.offboardedAt ?? "?"): no new backups (`lethe tenant reactivate \(record.id)` resumes them)")
        }
    }

    /// Restores and exports: active tenants, and offboarded ones inside their window or on hold.
    public func requireRestoreAllowed(_ record: TenantRecord) throws {
        guard record.state == .offboarded, record.legalHold == nil, let end = windowEnd(record) else { return }
        if installation.now >= end {
            throw LetheError.refused(
                "tenant \(record.id)'s restore window ended on \(Timestamp.format(end)); its data is due for destruction")
        }
    }

    /// When an offboarded tenant's restore window ends.
    public func windowEnd(_ record: TenantRecord) -> Date? {
        guard record.state == .offboarded, let start = record.offboardedAt.flatMap(Timestamp.parse) else { return nil }
        let days = record.restoreWindowDays ?? installation.configuration.restoreWindowDays
        return start.addingTimeInterval(TimeInterval(days) * 86_400)
    }
}
