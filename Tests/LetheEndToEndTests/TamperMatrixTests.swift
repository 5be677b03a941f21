import Foundation
import Testing

/// The tamper matrix: every file of the store and of the home outside the key directory is
/// flipped, deleted, rolled back, duplicated or moved, by S (the store) or H (the rest of the
/// home), and the probes an operator would run follow: `audit verify`, `report verify` against
/// keys held out of band, `verify --read-data`, a restore of an untouched tenant, `destroy
/// execute` of the pending, cancelled and approved requests, and `nightly` — all at a time when
/// every grace period has passed.
///
/// Each case must end one of two ways: refused and named (a probe exits 3 or 4, differently
/// from the untampered home, with a line naming the object or the problem), or harmless (every
/// probe behaves as on the untampered home, the restore gives the same tree, the same snapshots
/// verify). Whatever the outcome, the invariants hold: only globex, whose request dana and carl
/// approved, may be destroyed, and only with a report that verifies against the keys an
/// auditor holds; no DEK is lost; `audit verify` never says intact once entries were changed
/// or lost; no probe crashes; no key material leaves the key directory.
@Suite struct TamperMatrixTests {
    @Test func everyTamperingIsRefusedAndNamedOrHarmless() throws {
        let started = Date()
        let golden = try TamperGolden.get()
        let setup = golden.buildSeconds
        let cases = try TamperCatalogue.cases(golden)
        let workers = max(1, Int(ProcessInfo.processInfo.environment["TAMPER_WORKERS"] ?? "") ?? 2)
        let boxes = try (0..<workers).map { _ in try TamperSandbox(golden) }
        let baselines = boxes.map { TamperBaseline(box: $0) }
        for baseline in baselines.dropFirst() {
            #expect(baseline.statuses == baselines[0].statuses, "the untampered copies disagree: \(baseline.statuses) vs \(baselines[0].statuses)")
        }
        let base = baselines[0]
        try #require(base.statuses == [
            .auditVerify: 0, .reportVerify: 0, .verifyData: 0, .restoreOther: 0, .executePending: 4, .executeCancelled: 4,
            .executeApproved: 0, .tenantShow: 4, .nightly: 0,
        ], "the untampered home: \(base.runs.values.map { "\($0.probe.rawValue) \($0.status) \($0.message)" })")
        try #require(TamperInvariants.check(TamperCase.untampered, runs: Array(base.runs.values), box: boxes[0]).isEmpty)

        let results = ResultBox(count: cases.count)
        let next = CaseCounter()
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            while let index = next.take(below: cases.count) {
                results.set(index, TamperRunner.run(cases[index], box: boxes[worker], baseline: base))
            }
        }
        let all = results.values
        // The table is the evidence when a case goes wrong, or when asked for (LETHE_TAMPER_TABLE=1);
        // a passing run stays quiet.
        let wrong = all.contains { !$0.violations.isEmpty || $0.outcome == .neither || ($0.outcome == .refused && !$0.named) }
        if wrong || ProcessInfo.processInfo.environment["LETHE_TAMPER_TABLE"] != nil {
            print(TamperTable.render(all, seconds: Date().timeIntervalSince(started), setup: setup, workers: workers))
        }
        for result in all {
            let label = "\(result.testCase.adversary.rawValue): \(result.testCase.object) — \(result.testCase.mutation)"
            if !result.violations.isEmpty {
                Issue.record("INVARIANT BROKEN by \(label): \(result.violations.joined(separator: "; "))")
            }
            if result.outcome == .neither {
                Issue.record("\(label): neither refused nor harmless: \(result.detail)")
            }
            if result.outcome == .refused && !result.named {
                Issue.record("\(label): refused by \(result.caughtBy?.rawValue ?? "?") without naming the object or the problem: \(result.detail)")
            }
        }
    }
}

/// The untampered home's probe results, against which deviations are judged.
struct TamperBaseline: @unchecked Sendable {
    let runs: [TamperProbe: ProbeRun]
    let restored: String
    let verified: [String: String]
    let nightly: [String: String]

    init(box: TamperSandbox) {
        try? box.reset()
        var runs: [TamperProbe: ProbeRun] = [:]
        for probe in TamperProbe.allCases { runs[probe] = box.run(probe) }
        self.runs = runs
        restored = box.restoredDigest()
        verified = TamperBaseline.verification(runs[.verifyData])
        nightly = TamperBaseline.nightly(runs[.nightly])
    }

    var statuses: [TamperProbe: Int32] { runs.mapValues(\.status) }

    /// Per tenant: snapshots and errors found.
    static func verification(_ run: ProbeRun?) -> [String: String] {
        guard let run, let list = (try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8))) as? [[String: Any]] else { return [:] }
        var summary: [String: String] = [:]
        for result in list {
            let report = result["report"] as? [String: Any] ?? [:]
            summary[result["tenant"] as? String ?? "?"] =
                "snapshots \(report["snapshots"] ?? "?"), errors \((report["errors"] as? [Any])?.count ?? -1), error \(result["error"] as? String ?? "none")"
        }
        return summary
    }

    /// What a nightly run did that matters: backups, retention, destructions, failures.
    static func nightly(_ run: ProbeRun?) -> [String: String] {
        guard let run, let summary = (try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8))) as? [String: Any] else { return [:] }
        func notes(_ key: String) -> String {
            ((summary[key] as? [[String: Any]]) ?? []).map { "\($0["tenant"] ?? "") \($0[key == "forgotten" ? "detail" : "tenant"] ?? "")" }.sorted().joined(separator: ", ")
        }
        return [
            "backups": ((summary["backups"] as? [[String: Any]]) ?? []).map { "\($0["tenant"] ?? "") \($0["status"] ?? "")" }.sorted().joined(separator: ", "),
            "forgotten": notes("forgotten"), "executed": notes("destructionsExecuted"), "opened": notes("destructionRequestsOpened"),
            "failures": String(((summary["failures"] as? [Any]) ?? []).count), "violations": "\(summary["integrityViolations"] ?? "?")",
            "verified": ((summary["verification"] as? [[String: Any]]) ?? []).compactMap { $0["tenant"] as? String }.sorted().joined(separator: ", "),
        ]
    }
}

struct TamperResult: Sendable {
    enum Outcome: String, Sendable { case refused, harmless, neither = "NEITHER" }
    let testCase: TamperCase
    let outcome: Outcome
    /// The refusing probe and its line, or what differed.
    let detail: String
    let caughtBy: TamperProbe?
    let status: Int32?
    let named: Bool
    let violations: [String]
}

enum TamperRunner {
    static func run(_ testCase: TamperCase, box: TamperSandbox, baseline: TamperBaseline) -> TamperResult {
        func attempt(_ probes: [TamperProbe]) throws -> [ProbeRun] {
            try box.reset()
            try testCase.apply(box)
            return probes.map { box.run($0) }
        }
        var runs: [ProbeRun]
        do {
            runs = try attempt(testCase.probes)
            if refusal(runs, testCase, baseline) == nil, !testCase.probesAreComplete, Set(testCase.probes) != Set(TamperProbe.allCases) {
                runs = try attempt(TamperProbe.allCases)
            }
        } catch {
            return TamperResult(testCase: testCase, outcome: .neither, detail: "the case could not be applied: \(error)", caughtBy: nil, status: nil,
                                named: false, violations: [])
        }
        let violations = TamperInvariants.check(testCase, runs: runs, box: box)
        if let refused = refusal(runs, testCase, baseline) {
            let line = refused.message
            let named = testCase.names.contains { !$0.isEmpty && line.localizedCaseInsensitiveContains($0) }
            return TamperResult(testCase: testCase, outcome: .refused, detail: line, caughtBy: refused.probe, status: refused.status, named: named,
                                violations: violations)
        }
        let differences = self.differences(runs, box: box, baseline: baseline)
        return TamperResult(testCase: testCase, outcome: differences.isEmpty ? .harmless : .neither,
                            detail: differences.joined(separator: "; "), caughtBy: nil, status: nil, named: false, violations: violations)
    }

    /// The first probe that refused where the untampered home did not (or refused otherwise).
    static func refusal(_ runs: [ProbeRun], _ testCase: TamperCase, _ baseline: TamperBaseline) -> ProbeRun? {
        let refusing: Set<Int32> = testCase.kind == "lethe.json" ? [2, 3, 4] : [3, 4]
        return runs.first { run in
            guard refusing.contains(run.status), let base = baseline.runs[run.probe] else { return false }
            return run.status != base.status || run.message != base.message
        }
    }

    /// How the probes' results differ from the untampered home's, for what matters.
    static func differences(_ runs: [ProbeRun], box: TamperSandbox, baseline: TamperBaseline) -> [String] {
        var found: [String] = []
        for run in runs {
            guard let base = baseline.runs[run.probe] else { continue }
            if run.status != base.status { found.append("\(run.probe.rawValue) exited \(run.status), not \(base.status): \(run.message)") }
            switch run.probe {
            case .restoreOther where run.status == 0 && box.restoredDigest() != baseline.restored:
                found.append("the restored tree of umbrella differs")
            case .verifyData where TamperBaseline.verification(run) != baseline.verified:
                found.append("verify found \(TamperBaseline.verification(run)), not \(baseline.verified)")
            case .nightly:
                let now = TamperBaseline.nightly(run)
                for (key, value) in baseline.nightly where now[key] != value {
                    found.append("nightly \(key): \(now[key] ?? "-") instead of \(value)")
                }
            case .auditVerify where run.stdout.contains(": intact") != base.stdout.contains(": intact"):
                found.append("audit verify: \(run.stdout.split(separator: "\n").last ?? "")")
            default:
                break
            }
        }
        return found
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [TamperResult?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: TamperResult) { lock.withLock { slots[index] = value } }
    var values: [TamperResult] { lock.withLock { slots.compactMap { $0 } } }
}

final class CaseCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    func take(below limit: Int) -> Int? {
        lock.withLock {
            guard next < limit else { return nil }
            defer { next += 1 }
            return next
        }
    }
}
