import Foundation

/// When failing backups become an availability incident: a tenant whose backups failed on
/// `nights` different nights in a row (UTC dates of the `backup` entries since its last backup
/// that did not fail). Read from the proven audit log, not from a counter H could reset. A
/// partial backup made a snapshot, so it does not count as a failed night.
package enum BackupFailures {
    package struct Streak: Equatable {
        package var nights: Int
        package var errors: [String]
    }

    /// The failed nights in a row up to now, newest first, and the errors they logged.
    package static func streak(of tenant: String, in entries: [AuditEntry]) -> Streak {
        var dates = Set<String>()
        var errors: [String] = []
        for entry in entries.reversed() where entry.operation == "backup" && entry.tenant == tenant {
            guard entry.details["status"] == "failed" else { break }
            dates.insert(String(entry.time.prefix(10)))
            if let error = entry.details["error"], !errors.contains(error) { errors.append(error) }
        }
        return Streak(nights: dates.count, errors: errors)
    }

    package static func detections(for tenants: [String], in entries: [AuditEntry], nights: Int) -> [Incidents.Detection] {
        tenants.compactMap { tenant in
            let streak = streak(of: tenant, in: entries)
            guard streak.nights >= nights else { return nil }
            return Incidents.Detection(
                type: .availability, key: "availability/backup/\(tenant)",
                summary: "the backup of \(tenant) failed on \(streak.nights) nights in a row (the threshold is \(nights))",
                source: "nightly", tenants: [tenant], objects: streak.errors)
        }
    }
}
