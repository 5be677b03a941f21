import Foundation
import LetheStore

/// node_exporter textfile metrics for the nightly run (Prometheus text format), written
/// atomically so the collector never reads half a file. The time of the last fully successful
/// run is carried in `<home>/nightly-last-success` between runs.
struct NightlyMetrics {
    let installation: Installation

    func write(_ summary: NightlyRun.Summary, to path: String) throws {
        let now = Int(installation.now.timeIntervalSince1970)
        let marker = "\(installation.home.path)/nightly-last-success"
        if summary.exitStatus == 0 {
            try FileSystem.writeAtomically(Array(String(now).utf8), to: marker)
        }
        let lastSuccess = (try? FileSystem.readFile(marker, limit: 64)).flatMap { Int(String(decoding: $0, as: UTF8.self)) } ?? 0
        var lines: [String] = []
        func metric(_ name: String, _ help: String, _ samples: [(String, String)]) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) gauge")
            for (labels, value) in samples { lines.append("\(name)\(labels) \(value)") }
        }
        func label(_ tenant: String) -> String { "{tenant=\"\(tenant.replacingOccurrences(of: "\"", with: ""))\"}" }
        metric("lethe_nightly_last_run_timestamp_seconds", "When the last nightly run finished.", [("", String(now))])
        metric("lethe_nightly_last_success_timestamp_seconds", "When the last nightly run without any failure finished.", [("", String(lastSuccess))])
        metric("lethe_nightly_duration_seconds", "Duration of the last nightly run.", [("", String(summary.durationSeconds))])
        metric("lethe_nightly_failures", "Failures in the last nightly run.", [("", String(summary.failures.count))])
        metric("lethe_integrity_violations", "Integrity violations found by the last nightly verification.", [("", String(summary.integrityViolations))])
        metric("lethe_tenants_due", "Tenants past their restore window and not on hold.", [("", String(summary.tenantsDue))])
        metric("lethe_backup_success", "1 if the tenant's backup in the last nightly run succeeded.",
               summary.backups.map { (label($0.tenant), $0.status == .succeeded ? "1" : "0") })
        metric("lethe_backup_bytes_added", "Bytes new to the tenant's repository in the last nightly run.",
               summary.backups.map { (label($0.tenant), String($0.summary?.bytesAdded ?? 0)) })
        metric("lethe_incidents_open", "Incidents running (open or acknowledged), by type.",
               IncidentType.allCases.map { type in ("{type=\"\(type.rawValue)\"}", String(summary.openIncidents.filter { $0.type == type }.count)) })
        metric("lethe_incident_deadline_hours_left", "Hours left until the Art. 33 deadline (detected + 72 h) of each running incident; negative when passed.",
               summary.openIncidents.map { ("{incident=\"\($0.id)\",type=\"\($0.type.rawValue)\"}", String($0.hoursLeft)) })
        let latest = try installation.catalog().latestSnapshots().mapValues(\.time)
        metric("lethe_backup_last_snapshot_timestamp_seconds", "Time of the tenant's newest snapshot.",
               latest.keys.sorted().map { (label($0), String(Int(Timestamp.parse(latest[$0]!)?.timeIntervalSince1970 ?? 0))) })
        try FileSystem.writeAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: path, mode: 0o644)
    }
}
