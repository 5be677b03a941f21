import Foundation
import LetheCore
import LetheStore
import Testing

/// Retention selection against known cases.
@Suite struct RetentionSelectorTests {
    /// Snapshots at the given ISO times, named by their time.
    func candidates(_ times: [String]) -> [RetentionSelector.Candidate] {
        times.map { RetentionSelector.Candidate(id: $0, time: Timestamp.parse($0)!) }
    }

    func kept(_ policy: RetentionPolicy, _ times: [String]) -> [String] {
        RetentionSelector.decide(policy, candidates(times)).filter(\.keep).map(\.snapshot).sorted()
    }

    /// Two snapshots a day at 02:00 and 14:00, from 2026-01-01 for `days` days.
    func twiceDaily(days: Int) -> [String] {
        (0..<days).flatMap { day -> [String] in
            let date = Date(timeIntervalSince1970: 1_767_225_600 + Double(day) * 86_400) // 2026-01-01T00:00:00Z
            return [Timestamp.format(date.addingTimeInterval(2 * 3600)), Timestamp.format(date.addingTimeInterval(14 * 3600))]
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let policy: RetentionPolicy
        let times: [String]
        let expected: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "keep last 2 of 4", policy: RetentionPolicy(keepLast: 2),
             times: ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"],
             expected: ["2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"]),
        Case(name: "daily keeps the newest of each day", policy: RetentionPolicy(keepDaily: 2),
             times: ["2026-01-01T02:00:00Z", "2026-01-01T14:00:00Z", "2026-01-02T02:00:00Z", "2026-01-02T14:00:00Z"],
             expected: ["2026-01-01T14:00:00Z", "2026-01-02T14:00:00Z"]),
        Case(name: "daily counts days that have a snapshot, not calendar days", policy: RetentionPolicy(keepDaily: 2),
             times: ["2026-01-01T02:00:00Z", "2026-01-05T02:00:00Z", "2026-01-09T02:00:00Z"],
             expected: ["2026-01-05T02:00:00Z", "2026-01-09T02:00:00Z"]),
        Case(name: "weekly uses ISO weeks (Monday 2026-01-05 starts W02)", policy: RetentionPolicy(keepWeekly: 2),
             times: ["2026-01-03T10:00:00Z", "2026-01-04T10:00:00Z", "2026-01-05T10:00:00Z", "2026-01-06T10:00:00Z"],
             expected: ["2026-01-04T10:00:00Z", "2026-01-06T10:00:00Z"]),
        Case(name: "monthly keeps the newest of each month", policy: RetentionPolicy(keepMonthly: 3),
             times: ["2025-11-30T00:00:00Z", "2025-12-01T00:00:00Z", "2025-12-31T23:00:00Z", "2026-01-15T00:00:00Z", "2026-02-01T00:00:00Z"],
             expected: ["2025-12-31T23:00:00Z", "2026-01-15T00:00:00Z", "2026-02-01T00:00:00Z"]),
        Case(name: "rules add up", policy: RetentionPolicy(keepLast: 1, keepMonthly: 2),
             times: ["2025-12-10T00:00:00Z", "2025-12-20T00:00:00Z", "2026-01-10T00:00:00Z", "2026-01-20T00:00:00Z"],
             expected: ["2025-12-20T00:00:00Z", "2026-01-20T00:00:00Z"]),
        Case(name: "no rule keeps everything", policy: RetentionPolicy(),
             times: ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"],
             expected: ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"]),
        Case(name: "all rules zero still keeps the newest", policy: RetentionPolicy(keepLast: 0, keepDaily: 0),
             times: ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"],
             expected: ["2026-01-02T00:00:00Z"]),
        Case(name: "empty repository", policy: .standard, times: [], expected: []),
    ]

    @Test(arguments: cases)
    func selection(_ testCase: Case) {
        #expect(kept(testCase.policy, testCase.times) == testCase.expected.sorted())
    }

    @Test func standardPolicyOverSixtyDaysOfTwiceDailySnapshots() {
        // 7 daily (days 54..60), 4 weekly and 3 monthly newest-of-bucket, overlapping.
        let times = twiceDaily(days: 60) // 2026-01-01 … 2026-03-01
        let keep = Set(kept(.standard, times))
        let daily = (54..<60).map { day in Timestamp.format(Date(timeIntervalSince1970: 1_767_225_600 + Double(day) * 86_400 + 14 * 3600)) }
        #expect(daily.allSatisfy(keep.contains), "the newest snapshot of each of the last days")
        #expect(keep.contains("2026-01-31T14:00:00Z"), "the newest of January (monthly)")
        #expect(keep.contains("2026-02-28T14:00:00Z"), "the newest of February (monthly)")
        #expect(keep.contains("2026-03-01T14:00:00Z"), "the newest of all")
        #expect(!keep.contains("2026-01-01T02:00:00Z"))
        #expect(keep.count <= 7 + 4 + 3)
    }

    @Test func reasonsNameEveryRuleThatKeepsASnapshot() {
        let decisions = RetentionSelector.decide(RetentionPolicy(keepLast: 1, keepDaily: 1), candidates(["2026-01-01T00:00:00Z"]))
        #expect(decisions.first?.reasons == ["last", "daily 2026-01-01"])
    }
}
