import Foundation
import Testing

/// The outputs docs/cli.md calls exact — `report show --json`, `destroy show --raw`,
/// `authorizer proposal --raw` — are the signed bytes and nothing more: redirected by the shell
/// into a file (openssl 3's Ed25519 needs a file, not a pipe), a signature over them verifies
/// with stock openssl. One added newline would fail it.
@Suite struct ExactBytesTests {
    let destruction = DestructionCLITests()

    @Test func reportShowJSONIsTheSignedReportAndRequestRawIsTheApprovedRequest() throws {
        let home = try destruction.prepared()
        let id = try destruction.approved(home)
        #expect(home.lethe(["destroy", "execute", id], environment: destruction.at(3.1)).status == 0)
        let report = "rpt-" + id.dropFirst(3)
        let evidence = "\(home.root)/evidence"
        #expect(home.lethe("report", "export", report, "--output", evidence).status == 0)
        let lethe = "LETHE_HOME='\(home.home)' '\(E2EHome.binary)'"
        let run = E2EHome.shell("""
            set -euo pipefail
            \(lethe) report show \(report) --json > shown.json
            openssl pkeyutl -verify -pubin -inkey '\(home.keys)/signing-key.pub.pem' -rawin -in shown.json -sigfile \(report).sig
            \(lethe) destroy show \(id) --raw > shown-request.json
            openssl pkeyutl -verify -pubin -inkey approval-carl.pub.pem -rawin -in shown-request.json -sigfile approval-carl.sig
            openssl pkeyutl -verify -pubin -inkey approval-dana.pub.pem -rawin -in shown-request.json -sigfile approval-dana.sig
            """, directory: evidence)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stdout.components(separatedBy: "Signature Verified Successfully").count - 1 == 3, "\(run.output)")
        // The same bytes as the exported file, which check 1 of docs/auditors.md verifies.
        let shown = Data(home.lethe("report", "show", report, "--json").stdout.utf8)
        #expect(shown == (try Data(contentsOf: URL(fileURLWithPath: "\(evidence)/\(report).json"))))
        #expect(shown.last == UInt8(ascii: "}"))
    }

    /// The proposal's raw bytes, piped into openssl's signer: Lethe accepts that signature over
    /// the bytes it holds, so they were exactly those.
    @Test func proposalRawIsTheBytesTheAuthorizersSign() throws {
        let home = try destruction.prepared()
        let key = "\(home.root)/erin"
        #expect(E2EHome.run(DestructionCLITests.openssl, ["genpkey", "-algorithm", "ed25519", "-out", "\(key).pem"]).status == 0)
        #expect(E2EHome.run(DestructionCLITests.openssl, ["pkey", "-in", "\(key).pem", "-pubout", "-out", "\(key).pub.pem"]).status == 0)
        #expect(home.lethe("authorizer", "add", "erin", "--role", "officer", "--public-key", "\(key).pub.pem").status == 0)
        let lethe = "LETHE_HOME='\(home.home)' '\(E2EHome.binary)'"
        for who in ["dana", "carl", "erin"] {
            let sign = E2EHome.shell("""
                set -euo pipefail
                \(lethe) authorizer proposal --raw > proposal-\(who).json
                openssl pkeyutl -sign -inkey \(who).pem -rawin -in proposal-\(who).json -out \(who)-piped.sig
                """, directory: home.root)
            #expect(sign.status == 0, "\(sign.output)")
            let accepted = home.lethe("authorizer", "sign", "--authorizer", who, "--signature", "\(home.root)/\(who)-piped.sig")
            #expect(accepted.status == 0, "\(who): \(accepted.output)")
        }
        let list = home.lethe("authorizer", "list")
        #expect(list.stdout.contains("erin"), "\(list.output)")
    }
}
