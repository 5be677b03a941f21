import Foundation
import Testing

/// The controller's processing log through the real binary: an extract of one tenant's entries
/// verifies with `lethe audit verify-extract` and with the openssl/sha256sum/python3 block of
/// docs/auditors.md, fails both after one byte is changed, holds no other tenant's name, and
/// respects its period.
@Suite struct AuditExtractCLITests {
    static let start = ISO8601DateFormatter().date(from: "2026-03-01T02:00:00Z")!

    func at(_ days: Double) -> [String: String] {
        ["LETHE_NOW": ISO8601DateFormatter().string(from: Self.start.addingTimeInterval(days * 86_400))]
    }

    /// acme and globex, each with a few days of history.
    func prepared() throws -> E2EHome {
        let home = try E2EHome()
        try home.addTenant("acme")
        try home.addTenant("globex")
        for day in 0..<3 {
            #expect(home.lethe(["backup", "--all"], environment: at(Double(day))).status == 0)
        }
        #expect(home.lethe(["tenant", "register", "set", "acme", "--purpose", "payroll"], environment: at(2)).status == 0)
        #expect(home.lethe(["tenant", "hold", "globex", "--reason", "litigation"], environment: at(2)).status == 0)
        return home
    }

    func extract(_ home: E2EHome, _ arguments: [String] = []) throws -> (directory: String, manifest: [String: Any]) {
        let directory = "\(home.root)/extract-\(UUID().uuidString.prefix(8))"
        let run = home.lethe(["audit", "extract", "acme", "--output", directory, "--json"] + arguments, environment: at(3))
        #expect(run.status == 0, "\(run.output)")
        return (directory, try #require(try run.json() as? [String: Any]))
    }

    /// Every file under `directory`, as text.
    func everything(_ directory: String) throws -> String {
        let walker = try #require(FileManager.default.enumerator(atPath: directory))
        var text = ""
        while let name = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(directory)/\(name)", isDirectory: &isDirectory), !isDirectory.boolValue {
                text += name + "\n" + String(decoding: try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)")), as: UTF8.self)
            }
        }
        return text
    }

    func guideScript() throws -> String {
        let guide = try String(contentsOfFile: "\(E2EHome.repository)/docs/auditors.md", encoding: .utf8)
        let blocks = guide.components(separatedBy: "```bash\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        try #require(blocks.count == 1)
        return "set -euo pipefail\n" + blocks[0]
    }

    @Test func anExtractHoldsTheTenantsEntriesAndVerifies() throws {
        let home = try prepared()
        // Exactly acme's entries, as the log lists them.
        let log = try #require(try home.lethe("audit", "log", "--tenant", "acme", "--json").json() as? [[String: Any]])
        let (directory, manifest) = try extract(home)
        let items = try #require(manifest["entries"] as? [[String: Any]])
        #expect(items.map { $0["index"] as? Int } == log.map { $0["index"] as? Int })
        #expect(log.count >= 5)
        let verify = home.lethe("audit", "verify-extract", directory, "--public-key", "\(home.keys)/signing-key.pub.pem")
        #expect(verify.status == 0, "\(verify.output)")
        // No other tenant's name anywhere in the folder, and no entry without a tenant.
        let text = try everything(directory)
        #expect(!text.contains("globex") && !text.contains("Client globex") && !text.contains("litigation"))
        #expect(text.contains("acme"))
        // The extract itself is logged for the tenant.
        let after = try #require(try home.lethe("audit", "log", "--tenant", "acme", "--json").json() as? [[String: Any]])
        #expect(after.last?["operation"] as? String == "audit.extract")
    }

    @Test func theGuidesOpensslSha256sumAndPythonChecksPassAndCatchOneChangedByte() throws {
        let home = try prepared()
        let (directory, _) = try extract(home)
        try FileManager.default.copyItem(atPath: "\(home.keys)/signing-key.pub.pem", toPath: "\(directory)/signing-key.pub.pem")
        let script = try guideScript()
        let run = E2EHome.shell(script, directory: directory)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stdout.components(separatedBy: "Signature Verified Successfully").count - 1 == 2, "manifest and checkpoint")
        #expect(run.stdout.contains("entries of acme, each in the signed tree"))
        try FileManager.default.removeItem(atPath: "\(directory)/signing-key.pub.pem")
        for name in ["checkpoint-body.txt", "checkpoint.sig"] { try? FileManager.default.removeItem(atPath: "\(directory)/\(name)") }

        // One byte of one entry changed: both the guide and verify-extract fail.
        let entries = try FileManager.default.contentsOfDirectory(atPath: "\(directory)/entries").sorted()
        let victim = "\(directory)/entries/\(try #require(entries.last))"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: victim)))
        let position = try #require(bytes.firstIndex(of: UInt8(ascii: "a")))
        bytes[position] = UInt8(ascii: "b")
        try Data(bytes).write(to: URL(fileURLWithPath: victim))
        let verify = home.lethe("audit", "verify-extract", directory, "--public-key", "\(home.keys)/signing-key.pub.pem")
        #expect(verify.status == 3, "\(verify.output)")
        #expect(verify.stdout.contains("FAILED entries"))
        try FileManager.default.copyItem(atPath: "\(home.keys)/signing-key.pub.pem", toPath: "\(directory)/signing-key.pub.pem")
        let tampered = E2EHome.shell(script, directory: directory)
        #expect(tampered.status != 0)
        #expect(tampered.output.contains("FAILED"), "sha256sum -c names the changed file: \(tampered.output)")
    }

    /// What an operator could try: drop an entry from the manifest (the signature breaks),
    /// plant another tenant's entry (not listed, and its tenant is wrong), swap the checkpoint,
    /// or hand over a key of their own making (not the fingerprint the manifest names).
    @Test func aChangedManifestAPlantedEntryOrAnotherKeyFailsVerification() throws {
        let home = try prepared()
        let key = "\(home.keys)/signing-key.pub.pem"
        func verifies(_ directory: String, key: String) -> E2ERun {
            home.lethe("audit", "verify-extract", directory, "--public-key", key)
        }
        let (one, _) = try extract(home)
        let manifestPath = "\(one)/extract.json"
        let original = try String(contentsOfFile: manifestPath, encoding: .utf8)
        try original.replacingOccurrences(of: "\"tenant\":\"acme\"", with: "\"tenant\":\"acmf\"").write(toFile: manifestPath, atomically: true, encoding: .utf8)
        #expect(verifies(one, key: key).stdout.contains("FAILED extract signature"))
        try original.write(toFile: manifestPath, atomically: true, encoding: .utf8)
        #expect(verifies(one, key: key).status == 0)

        let log = try #require(try home.lethe("audit", "log", "--tenant", "globex", "--json").json() as? [[String: Any]])
        let foreign = try #require(log.first?["index"] as? Int)
        try home.write("\(one)/entries/\(foreign).json", "{}")
        let planted = verifies(one, key: key)
        #expect(planted.status == 3 && planted.stdout.contains("FAILED no other entries"))
        try FileManager.default.removeItem(atPath: "\(one)/entries/\(foreign).json")

        try FileManager.default.copyItem(atPath: "\(home.store)/audit/checkpoints/\(try #require(home.objects("audit/checkpoints").first).split(separator: "/").last!)",
                                         toPath: "\(one)/older-checkpoint")
        try FileManager.default.removeItem(atPath: "\(one)/checkpoint.txt")
        try FileManager.default.moveItem(atPath: "\(one)/older-checkpoint", toPath: "\(one)/checkpoint.txt")
        #expect(verifies(one, key: key).stdout.contains("FAILED checkpoint"))

        let (two, _) = try extract(home)
        _ = E2EHome.run("/usr/bin/openssl", ["genpkey", "-algorithm", "ed25519", "-out", "\(home.root)/other.pem"])
        _ = E2EHome.run("/usr/bin/openssl", ["pkey", "-in", "\(home.root)/other.pem", "-pubout", "-out", "\(home.root)/other.pub.pem"])
        let wrongKey = verifies(two, key: "\(home.root)/other.pub.pem")
        #expect(wrongKey.status == 3 && wrongKey.stdout.contains("FAILED service key") && wrongKey.stdout.contains("FAILED checkpoint"))
    }

    @Test func thePeriodSelectsEntriesByTimeAndBadDatesAreRefused() throws {
        let home = try prepared()
        let (_, manifest) = try extract(home, ["--from", "2026-03-02", "--to", "2026-03-02"])
        let items = try #require(manifest["entries"] as? [[String: Any]])
        #expect(items.count == 1, "one backup on 2 March")
        let (directory, _) = try extract(home, ["--from", "2026-03-02T00:00:00Z"])
        let times = try FileManager.default.contentsOfDirectory(atPath: "\(directory)/entries").map { name in
            try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(directory)/entries/\(name)"))) as? [String: Any])["time"] as? String
        }
        #expect(!times.isEmpty && times.allSatisfy { ($0 ?? "") >= "2026-03-02" })
        #expect(home.lethe("audit", "verify-extract", directory, "--public-key", "\(home.keys)/signing-key.pub.pem").status == 0)
        let bad = home.lethe("audit", "extract", "acme", "--output", "\(home.root)/x", "--from", "March")
        #expect(bad.status == 2 && bad.stderr.contains("--from"))
        #expect(home.lethe("audit", "extract", "nobody", "--output", "\(home.root)/y").status == 2)
        #expect(home.lethe("audit", "extract", "acme", "--output", directory).status == 2, "an existing extract is not overwritten")
        #expect(home.lethe("audit", "verify-extract", "\(home.root)/nothing-here").status == 2)
    }
}
