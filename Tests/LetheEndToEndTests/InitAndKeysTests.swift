import Foundation
import Testing

@Suite struct InitAndKeysTests {
    @Test func initPrintsTheFingerprintAndKeysStatusShowsEpochOne() throws {
        let home = try E2EHome(initialize: false)
        let run = home.lethe("init", "--keys", home.keys)
        #expect(run.status == 0)
        #expect(run.stdout.contains("fingerprint      SHA256:"))
        let status = try #require(try home.lethe("keys", "status", "--json").json() as? [String: Any])
        #expect(status["kekEpoch"] as? Int == 1)
        #expect(status["tenantKeys"] as? Int == 0)
        #expect((status["signingKeyFingerprint"] as? String)?.hasPrefix("SHA256:") == true)
    }

    @Test func secondInitIsRefusedAndChangesNothing() throws {
        let home = try E2EHome()
        func snapshot() -> [String: Data] {
            var files: [String: Data] = [:]
            for path in FileManager.default.subpaths(atPath: home.keys) ?? [] {
                if let data = FileManager.default.contents(atPath: "\(home.keys)/\(path)") { files[path] = data }
            }
            files["lethe.json"] = FileManager.default.contents(atPath: "\(home.home)/lethe.json")
            return files
        }
        let before = snapshot()
        let again = home.lethe("init", "--keys", home.keys)
        #expect(again.status == 2)
        #expect(again.stderr.hasPrefix("lethe: "))
        #expect(snapshot() == before)
        let otherHome = home.lethe("init", "--home", "\(home.root)/other", "--keys", home.keys)
        #expect(otherHome.status == 2, "keys that already exist are never overwritten")
        #expect(snapshot() == before)
    }

    @Test func helpAndUsageErrors() throws {
        let home = try E2EHome()
        #expect(home.lethe("--help").status == 0)
        #expect(home.lethe("backup", "--help").stdout.contains("Usage: lethe backup"))
        #expect(home.lethe("destroy", "--help").status == 0)
        let unknownVerb = home.lethe("frobnicate")
        #expect(unknownVerb.status == 2 && unknownVerb.stderr.contains("unknown command"))
        let unknownOption = home.lethe("snapshots", "--bogus")
        #expect(unknownOption.status == 2 && unknownOption.stderr.split(separator: "\n").count == 1)
        let notInitialized = E2EHome.run(E2EHome.binary, ["snapshots", "--home", "\(home.root)/nowhere"])
        #expect(notInitialized.status == 2 && notInitialized.stderr.contains("lethe init"))
    }

    @Test func invalidTenantIdsAreUsageErrors() throws {
        let home = try E2EHome()
        for id in ["../evil", "a/b", "UPPER", "", "-dash", String(repeating: "x", count: 65)] {
            let run = home.lethe("tenant", "add", id, "--source", "dir:\(home.data)")
            #expect(run.status == 2, "\(id): \(run.output)")
            #expect(!run.stderr.contains("Fatal error"))
        }
    }

    @Test func unknownTenantIsNamed() throws {
        let home = try E2EHome()
        let backup = home.lethe("backup", "ghost")
        #expect(backup.status == 2 && backup.stderr.contains("unknown tenant ghost"))
        let restore = home.lethe("restore", "ghost", "--target", "\(home.root)/r")
        #expect(restore.status == 2 && restore.stderr.contains("ghost"))
    }

    /// No key byte ever reaches the terminal: neither the KEK, nor the signing key, nor a DEK's
    /// wrapped form.
    @Test func keyMaterialIsNeverPrinted() throws {
        let home = try E2EHome()
        var outputs = ""
        try home.addTenant("acme")
        for args in [["backup", "--all"], ["keys", "status"], ["keys", "status", "--json"], ["tenant", "show", "acme", "--json"],
                     ["snapshots", "--json"], ["verify", "--read-data"], ["keys", "rotate"], ["audit", "log", "--json"]] {
            outputs += home.lethe(args).output
        }
        var secrets: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: "\(home.keys)/kek") {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(home.keys)/kek/\(name)"))
            secrets += [bytes.map { String(format: "%02x", $0) }.joined(), bytes.base64EncodedString()]
        }
        let pem = try String(contentsOfFile: "\(home.keys)/signing-key.pem", encoding: .utf8)
        secrets += pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.map(String.init)
        let keystore = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(home.keys)/keystore.json"))) as! [String: Any]
        secrets += (keystore["tenants"] as! [String: [String: String]]).values.compactMap { $0["wrapped"] }
        #expect(secrets.count >= 4)
        for secret in secrets { #expect(!outputs.contains(secret)) }
    }

    @Test func keyFileReadableByOthersIsRefusedWithItsPath() throws {
        let home = try E2EHome()
        try home.addTenant("acme")
        chmod("\(home.keys)/signing-key.pem", 0o644)
        let run = home.lethe("audit", "verify")
        #expect(run.status == 2)
        #expect(run.stderr.contains("signing-key.pem") && run.stderr.contains("chmod 600"))
    }
}
