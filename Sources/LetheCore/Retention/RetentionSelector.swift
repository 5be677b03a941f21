import Foundation
import LetheStore

/// Decides which snapshots a retention policy keeps, in restic's manner: walking from the
/// newest, `keepLast` keeps the first n; `keepDaily`, `keepWeekly` and `keepMonthly` keep the
/// newest snapshot of each of the n most recent days, ISO weeks and months (UTC) that have
/// one. A snapshot kept by any rule is kept. The newest snapshot is always kept, so no policy
/// can empty a tenant's repository.
public enum RetentionSelector {
    public struct Candidate: Sendable {
        public let id: String
        public let time: Date

        public init(id: String, time: Date) {
            self.id = id
            self.time = time
        }
    }

    public struct Decision: Codable, Equatable, Sendable {
        public let snapshot: String
        public let time: String
        public let keep: Bool
        /// The rules that keep it (`last`, `daily 2026-11-20`, `weekly 2026-W47`, …).
        public let reasons: [String]
    }

    /// Decisions for every candidate, newest first.
    public static func decide(_ policy: RetentionPolicy, _ candidates: [Candidate]) -> [Decision] {
        let ordered = candidates.sorted { ($0.time, $0.id) > ($1.time, $1.id) }
        var reasons = Array(repeating: [String](), count: ordered.count)
        if policy.keepsEverything {
            for index in ordered.indices { reasons[index].append("no rule set: keep everything") }
        } else {
            if let n = policy.keepLast {
                for index in ordered.indices.prefix(n) { reasons[index].append("last") }
            }
            let rules: [(String, Int?, (Date) -> String)] = [
                ("daily", policy.keepDaily, dayBucket), ("weekly", policy.keepWeekly, weekBucket),
                ("monthly", policy.keepMonthly, monthBucket),
            ]
            for (name, count, bucket) in rules {
                guard let count, count > 0 else { continue }
                var seen = Set<String>()
                for (index, candidate) in ordered.enumerated() {
                    let key = bucket(candidate.time)
                    if seen.contains(key) { continue }
                    guard seen.count < count else { break }
                    seen.insert(key)
                    reasons[index].append("\(name) \(key)")
                }
            }
        }
        if !ordered.isEmpty, reasons[0].isEmpty { reasons[0].append("newest") }
        return ordered.enumerated().map { index, candidate in
            Decision(snapshot: candidate.id, time: Timestamp.format(candidate.time), keep: !reasons[index].isEmpty, reasons: reasons[index])
        }
    }

    private static let calendar: Calendar = {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    static func dayBucket(_ date: Date) -> String {
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    static func weekBucket(_ date: Date) -> String {
        let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
        return String(format: "%04d-W%02d", c.yearForWeekOfYear!, c.weekOfYear!)
    }

    static func monthBucket(_ date: Date) -> String {
        let c = calendar.dateComponents([.year, .month], from: date)
        return String(format: "%04d-%02d", c.year!, c.month!)
    }
}
