import Foundation

extension TamperCase {
    /// The untampered home, for checking that the invariants hold there.
    static let untampered = TamperCase(
        object: "-", kind: "-", mutation: "none", adversary: .S, everyFile: false, probes: TamperProbe.allCases, probesAreComplete: true,
        names: [], losesAudit: false, apply: { _ in })
}

/// What must hold after every case, whatever the probes printed.
enum TamperInvariants {
    static func check(_ testCase: TamperCase, runs: [ProbeRun], box: TamperSandbox) -> [String] {
        var broken: [String] = []
        let golden = box.golden

        for run in runs where run.crashed {
            broken.append("\(run.probe.rawValue) crashed (exit \(run.status)): \(run.stderr.prefix(300))")
        }

        // Destruction: only globex's approved request may take effect, and only with a report an
        // auditor accepts. acme (pending) and umbrella (cancelled) keep their key and objects.
        let keys = box.keystoreTenants()
        if !keys.verifies {
            broken.append("the keystore no longer verifies (every DEK it holds is unusable): \(keys.detail.prefix(200))")
        }
        for tenant in ["acme", "umbrella"] {
            if !keys.tenants.contains(tenant) { broken.append("the DEK of \(tenant) is gone from the keystore") }
            if box.objects(of: tenant).isEmpty { broken.append("every object of \(tenant) is gone") }
        }
        for request in [golden.pending, golden.cancelled] where box.exists("store/reports/\(TamperGolden.reportID(request)).json") {
            broken.append("a destruction report exists for \(request), which was never approved or was cancelled")
        }
        // globex's request has dana's and carl's approvals and its grace period is over: its
        // destruction may happen, and if it stops half-way (a failing step), it must be one the
        // log shows started, which `destroy execute` resumes.
        let globexGone = !keys.tenants.contains("globex") || box.objects(of: "globex").isEmpty
        if globexGone, !box.reportVerifiesIndependently(golden.approved), !["executing", "completed"].contains(box.requestStatus(golden.approved)) {
            broken.append("globex was destroyed (key or objects gone) with no report that verifies and no execution started")
        }

        // Every remaining tenant's repository opens.
        if let verify = runs.first(where: { $0.probe == .verifyData }),
           let list = (try? JSONSerialization.jsonObject(with: Data(verify.stdout.utf8))) as? [[String: Any]] {
            for result in list {
                guard let tenant = result["tenant"] as? String, let error = result["error"] as? String else { continue }
                if tenant == "globex" && globexGone { continue }
                if ["key", "keystore", "unwrap", "KEK"].contains(where: { error.contains($0) }) {
                    broken.append("verify cannot open \(tenant)'s repository: \(error.prefix(200))")
                }
            }
        }

        // The audit log.
        if testCase.losesAudit {
            if let audit = runs.first(where: { $0.probe == .auditVerify }) {
                if audit.status == 0 || audit.stdout.contains(": intact") {
                    broken.append("audit verify says intact after committed entries were changed or lost: \(audit.stdout.suffix(200))")
                }
            } else {
                broken.append("the case loses audit entries but audit verify did not run")
            }
        }

        // Key material never leaves the key directory.
        broken += leakedKeyMaterial(box)
        return broken
    }

    /// Files of the home that hold a KEK, a signing key or the keystore.
    static func leakedKeyMaterial(_ box: TamperSandbox) -> [String] {
        var secrets: [(String, [UInt8])] = []
        for path in TamperGolden.files(in: box.golden.keys) + TamperGolden.files(in: box.keys) where path.hasPrefix("kek/") {
            for base in [box.golden.keys, box.keys] {
                let bytes = readBytes("\(base)/\(path)")
                if bytes.count == 32 { secrets.append(("KEK \(path)", bytes)) }
            }
        }
        let pem = readText("\(box.golden.keys)/signing-key.pem").split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        if !pem.isEmpty { secrets.append(("the service signing key", Array(pem.utf8))) }
        var found: [String] = []
        for path in TamperGolden.files(in: box.home) {
            guard let bytes = try? Data(contentsOf: URL(fileURLWithPath: "\(box.home)/\(path)")) else { continue }
            for (name, secret) in secrets where bytes.range(of: Data(secret)) != nil {
                found.append("\(name) is in \(path), outside the key directory")
            }
        }
        return Array(Set(found)).sorted()
    }
}

/// The compact table the suite prints: one row per kind and mutation for the every-file
/// cases, one row per chosen case.
enum TamperTable {
    static func render(_ results: [TamperResult], seconds: Double, setup: Double, workers: Int) -> String {
        var rows: [[String]] = [["CASE", "MUTATION", "BY", "OUTCOME", "CAUGHT BY"]]
        func caught(_ result: TamperResult) -> String {
            guard let probe = result.caughtBy, let status = result.status else {
                return result.outcome == .harmless ? "-" : String(result.detail.prefix(110))
            }
            return "\(probe.rawValue) (\(status)): \(result.detail.prefix(90))"
        }
        let grouped = Dictionary(grouping: results.filter(\.testCase.everyFile)) { "\($0.testCase.kind)\u{0}\($0.testCase.mutation)" }
        for key in grouped.keys.sorted() {
            let group = grouped[key]!
            let first = group[0].testCase
            let counts = Dictionary(grouping: group, by: \.outcome).map { "\($0.key.rawValue) \($0.value.count)" }.sorted().joined(separator: ", ")
            let by = Set(group.compactMap { r in r.caughtBy.map { "\($0.rawValue) \(r.status ?? 0)" } }).sorted().joined(separator: " | ")
            rows.append([group.count == 1 ? first.object : "\(first.kind) ×\(group.count)", first.mutation, first.adversary.rawValue, counts, by.isEmpty ? "-" : by])
            for odd in group where odd.outcome == .neither || !odd.violations.isEmpty || (odd.outcome == .refused && !odd.named) {
                rows.append(["  ! \(odd.testCase.object)", "", "", odd.outcome.rawValue + (odd.violations.isEmpty ? "" : " + INVARIANT"), caught(odd)])
            }
        }
        rows.append(["", "", "", "", ""])
        for result in results where !result.testCase.everyFile {
            let outcome = result.outcome.rawValue + (result.violations.isEmpty ? "" : " + INVARIANT BROKEN") + (result.outcome == .refused && !result.named ? " (unnamed)" : "")
            rows.append([result.testCase.object, result.testCase.mutation, result.testCase.adversary.rawValue, outcome, caught(result)])
        }
        let widths = (0..<5).map { column in min(column == 4 ? 200 : 60, rows.map { $0[column].count }.max() ?? 0) }
        var lines = ["TAMPER MATRIX: \(results.count) cases, \(String(format: "%.0f", seconds)) s (setup \(String(format: "%.0f", setup)) s, \(workers) workers)"]
        for row in rows {
            lines.append(zip(row, widths).map { cell, width in
                let text = String(cell.prefix(width))
                return text + String(repeating: " ", count: max(0, width - text.count))
            }.joined(separator: "  "))
        }
        let broken = results.filter { !$0.violations.isEmpty }
        if !broken.isEmpty {
            lines.append("INVARIANTS BROKEN:")
            for result in broken { lines.append("  \(result.testCase.object) — \(result.testCase.mutation): \(result.violations.joined(separator: "; "))") }
        }
        return lines.joined(separator: "\n")
    }
}
