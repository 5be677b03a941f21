import Foundation
import Testing

/// The signed erasure certificate a purge issues, checked as an auditor would, and the nightly
/// run executing an approved purge.
@Suite struct ErasureCertificateTests {
    @Test func theErasureCertificateVerifiesWithLetheAndWithOpenSSLAndHoldsNoPersonalData() throws {
        let (home, _, id) = try ErasurePurgeTests.prepared()
        #expect(home.lethe("erase", "certificate", id).status == 2)
        #expect(try ErasurePurgeTests.approve(id, by: "dana", in: home).status == 0)
        #expect(home.lethe("erase", "purge", id).status == 0)
        let evidence = "\(home.root)/certificate"
        let written = home.lethe("erase", "certificate", id, "--output", evidence)
        #expect(written.status == 0, "\(written.output)")
        let name = "ec-" + id.dropFirst(3)
        try FileManager.default.copyItem(atPath: "\(home.keys)/signing-key.pub.pem", toPath: "\(evidence)/signing-key.pub.pem")
        try home.write("\(evidence)/authorizers.txt", home.lethe("authorizer", "list", "--fingerprints").stdout)
        let verify = home.lethe("report", "verify", "--report", "\(evidence)/\(name).json", "--signature", "\(evidence)/\(name).sig",
                                "--public-key", "\(evidence)/signing-key.pub.pem", "--authorizers", "\(evidence)/authorizers.txt", "--json")
        #expect(verify.status == 0, "\(verify.output)")
        let checks = try #require((try verify.json() as? [String: Any])?["checks"] as? [[String: Any]])
        #expect(Set(checks.map { $0["check"] as! String }).isSuperset(of: [
            "report signature", "certificate matches the signed purge document", "authorizer registry", "approval by dana",
            "approval policy", "audit log inclusion", "audit entry matches", "purge checks",
        ]))
        // Stock openssl, as docs/auditors.md's certificate block runs it, exactly as written.
        let guide = try String(contentsOfFile: "\(E2EHome.repository)/docs/auditors.md", encoding: .utf8)
        let blocks = guide.components(separatedBy: "```sh\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        let block = try #require(blocks.first { $0.contains("$CERT") })
        let openssl = E2EHome.shell("set -euo pipefail\n" + block, directory: evidence, environment: ["CERT": name])
        #expect(openssl.status == 0, "\(openssl.output)")
        #expect(openssl.output.components(separatedBy: "Signature Verified Successfully").count == 3)
        #expect(openssl.stdout.contains("dana: SHA256:") && openssl.stdout.contains("is an erase.purge entry"))
        let document = try #require(FileManager.default.contents(atPath: "\(evidence)/purge.json"))
        let certificate = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(evidence)/\(name).json"))) as? [String: Any])
        #expect((certificate["purgeDocument"] as? [String: Any])?["bytes"] as? String == document.base64EncodedString())
        #expect((certificate["snapshots"] as? [Any])?.count == 2)
        // The same block fails on a certificate whose signature is not the service's.
        try Data(repeating: 0, count: 64).write(to: URL(fileURLWithPath: "\(evidence)/forged.sig"))
        try FileManager.default.copyItem(atPath: "\(evidence)/\(name).json", toPath: "\(evidence)/forged.json")
        #expect(E2EHome.shell("set -euo pipefail\n" + block, directory: evidence, environment: ["CERT": "forged"]).status != 0)
        #expect(E2EHome.run("/bin/grep", ["-rl", "-e", ErasureCLITests.alice, "-e", "ticket-4711", evidence]).stdout == "")
        // audit verify compares the certificate's checkpoint with the log, and misses a lost one.
        #expect(home.lethe("audit", "verify").status == 0)
        try FileManager.default.moveItem(atPath: "\(home.store)/certificates/\(name).json", toPath: "\(home.root)/kept.json")
        let lost = home.lethe("audit", "verify")
        #expect(lost.status == 3 && lost.stdout.contains("certificates/\(name).json"), "\(lost.output)")
        try FileManager.default.moveItem(atPath: "\(home.root)/kept.json", toPath: "\(home.store)/certificates/\(name).json")
        // An edited certificate no longer verifies.
        var bytes = try #require(FileManager.default.contents(atPath: "\(evidence)/\(name).json"))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: "\(evidence)/\(name).json"))
        #expect(home.lethe("report", "verify", "--report", "\(evidence)/\(name).json", "--signature", "\(evidence)/\(name).sig",
                           "--public-key", "\(evidence)/signing-key.pub.pem", "--authorizers", "\(evidence)/authorizers.txt").status == 3)
    }

    @Test func theNightlyRunExecutesAnApprovedPurge() throws {
        let (home, _, id) = try ErasurePurgeTests.prepared()
        #expect(try ErasurePurgeTests.approve(id, by: "dana", in: home).status == 0)
        let nightly = home.lethe("nightly", "--json")
        #expect(nightly.status == 0, "\(nightly.output)")
        let executed = try #require((try nightly.json() as? [String: Any])?["purgesExecuted"] as? [[String: Any]])
        #expect(executed.count == 1 && (executed.first?["detail"] as? String)?.hasPrefix(id) == true)
        // Whatever the night backed up and kept (retention runs too) holds no trace of her.
        #expect(try !ErasurePurgeTests.snapshotTimes(home).isEmpty)
        #expect(try ErasurePurgeTests.objectsHolding(ErasureCLITests.alice, tenant: "acme", home: home) == [])
        // A second night finds nothing left to purge.
        let again = try #require(try home.lethe("nightly", "--json", "--force").json() as? [String: Any])
        #expect((again["purgesExecuted"] as? [Any])?.count == 0)
    }
}
