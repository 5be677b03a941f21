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
        // Stock openssl: the service's signature over the certificate, the DPO's over the purge document.
        let script = """
            set -e
            openssl pkeyutl -verify -pubin -inkey signing-key.pub.pem -rawin -in \(name).json -sigfile \(name).sig
            openssl pkeyutl -verify -pubin -inkey approval-dana.pub.pem -rawin -in purge.json -sigfile approval-dana.sig
            python3 -c "import json,base64,hashlib; c=json.load(open('\(name).json')); d=base64.b64decode(c['purgeDocument']['bytes']); assert d==open('purge.json','rb').read(); assert hashlib.sha256(d).hexdigest()==c['purgeDocument']['sha256']; assert len(c['snapshots'])==2"
            """
        let openssl = E2EHome.shell(script, directory: evidence)
        #expect(openssl.status == 0 && openssl.output.components(separatedBy: "Signature Verified Successfully").count == 3, "\(openssl.output)")
        #expect(E2EHome.run("/bin/grep", ["-rl", "-e", ErasureCLITests.alice, "-e", "ticket-4711", evidence]).stdout == "")
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
