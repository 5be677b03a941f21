import LetheRepository
import LetheStore

/// What the audit log says each tenant's snapshots are: every snapshot a backup logged, minus
/// those forget logged. The store alone cannot tell a snapshot S deleted from one that never
/// existed; the log can, so `verify` compares the two.
struct LoggedSnapshots {
    struct Event {
        let index: Int
        let time: String
    }

    /// tenant → snapshot id (hex) → the entry that logged it.
    private(set) var made: [String: [String: Event]] = [:]
    /// tenant → snapshot id (hex, or the 8-digit prefix older logs wrote) → the forget entry.
    private(set) var forgotten: [String: [String: Event]] = [:]

    init(_ history: AuditHistory) {
        for entry in history.entries {
            guard let tenant = entry.tenant else { continue }
            let event = Event(index: entry.index, time: entry.time)
            switch entry.operation {
            case "backup", "backup.recovered", "erase.rewrite":
                if let snapshot = entry.details["snapshot"], !snapshot.isEmpty { made[tenant, default: [:]][snapshot] = event }
            case "forget":
                for snapshot in (entry.details["snapshots"] ?? "").split(separator: " ") {
                    forgotten[tenant, default: [:]][String(snapshot)] = event
                }
            default:
                break
            }
        }
    }

    func isForgotten(_ tenant: TenantID, _ snapshot: String) -> Bool {
        forgetting(tenant, snapshot) != nil
    }

    private func forgetting(_ tenant: TenantID, _ snapshot: String) -> Event? {
        forgotten[tenant.rawValue]?[snapshot] ?? forgotten[tenant.rawValue]?[String(snapshot.prefix(8))]
    }

    /// How the store's snapshots of `tenant` differ from the log's.
    struct Comparison {
        /// Logged, never forgotten, and gone from the store: an integrity violation.
        var missing: [String] = []
        /// Forgotten, yet back in the store: an integrity violation.
        var resurrected: [String] = []
        /// In the store, genuine, but never logged: a backup that crashed between writing its
        /// snapshot and logging it.
        var unlogged: [SnapshotID] = []
    }

    func compare(_ tenant: TenantID, store snapshots: [SnapshotID]) -> Comparison {
        var result = Comparison()
        let present = Set(snapshots.map(\.hex))
        for (snapshot, event) in (made[tenant.rawValue] ?? [:]).sorted(by: { $0.value.index < $1.value.index })
        where !present.contains(snapshot) && forgetting(tenant, snapshot) == nil {
            let key = SnapshotID(hex: snapshot).map { Layout.snapshot(tenant, $0).rawValue } ?? "\(tenant.storePrefix)/snapshots/\(snapshot)"
            result.missing.append(
                "\(key): snapshot \(snapshot.prefix(8)), backed up at \(event.time) (audit entry \(event.index)), is missing from the store")
        }
        for id in snapshots {
            if let event = forgetting(tenant, id.hex) {
                result.resurrected.append(
                    "\(Layout.snapshot(tenant, id)): snapshot \(id.short) was forgotten at \(event.time) (audit entry \(event.index)) but is in the store again")
            } else if made[tenant.rawValue]?[id.hex] == nil {
                result.unlogged.append(id)
            }
        }
        return result
    }
}
