import Foundation
import LetheCrypto

/// The commands an auditor runs on an evidence bundle (`lethe report export`) to check a
/// report with stock openssl and python3, printed inside the report's own rendering so that
/// the page says how to check it without pointing anywhere else. They are docs/auditors.md's
/// checks, with this report's file names and the values each one must print; the two python3
/// scripts are that guide's, word for word (a test holds them to it).
enum ReportCheckCommands {
    /// One shell script, run in the bundle's directory with `signing-key.pub.pem` (the key the
    /// auditor holds) beside it; it stops at the first failure.
    static func script(_ report: DestructionReport) -> String {
        let id = report.reportID
        let fingerprint = report.signer.keyFingerprint.replacingOccurrences(of: "SHA256:", with: "")
        var lines = [
            "set -e",
            "# 1. The report is signed by the service's key (the one you hold, never one from the bundle).",
            "openssl pkeyutl -verify -pubin -inkey signing-key.pub.pem -rawin -in \(id).json -sigfile \(id).sig",
            "# 2. That key's fingerprint; must print \(fingerprint)",
            "openssl pkey -pubin -in signing-key.pub.pem -outform DER | openssl dgst -sha256 -r",
            "# 3. The request the authorizers signed; must print \(report.request.sha256)",
            "openssl dgst -sha256 -r request.json",
            "# 4. Each approval is a signature over those bytes, by the key whose fingerprint is shown.",
        ]
        for approval in report.approvals {
            let name = approval.authorizer
            lines += [
                "openssl pkeyutl -verify -pubin -inkey approval-\(name).pub.pem -rawin -in request.json -sigfile approval-\(name).sig",
                "# must print \(approval.keyFingerprint.replacingOccurrences(of: "SHA256:", with: "")), a fingerprint you hold for \(name)",
                "openssl pkey -pubin -in approval-\(name).pub.pem -outform DER | openssl dgst -sha256 -r",
            ]
        }
        lines += [
            "# 5. The audit-log checkpoint is signed by the service's key.",
            "head -n 3 checkpoint.txt > checkpoint-body.txt",
            "tail -n 1 checkpoint.txt | awk '{print $3}' | openssl base64 -d -A | tail -c 64 > checkpoint.sig",
            "openssl pkeyutl -verify -pubin -inkey signing-key.pub.pem -rawin -in checkpoint-body.txt -sigfile checkpoint.sig",
            "# 6. The audit entry's Merkle leaf; must print \(leafHash(report))",
            "( printf '\\000'; cat audit-entry.json ) | openssl dgst -sha256 -binary | openssl base64",
            "#    and the inclusion proof leads from it to the checkpoint's root:",
            "python3 - \(id).json audit-entry.json checkpoint.txt <<'PY'",
            inclusionProofScript + "PY",
            "# 7. The inventory; must print \(report.inventory.digest)",
            "openssl dgst -sha256 -r inventory.txt",
            "python3 - \(id).json inventory.txt <<'PY'",
            inventoryScript + "PY",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// SHA-256(0x00 ‖ entry), base64: the RFC 9162 leaf hash of the destruction's audit entry.
    static func leafHash(_ report: DestructionReport) -> String {
        guard let hash = try? SHA256.hash([0] + Array(report.auditLog.entry.utf8)) else { return "(cannot hash)" }
        return Data(hash).base64EncodedString()
    }

    /// Check 6 of docs/auditors.md: the entry and checkpoint are the report's, and the
    /// inclusion proof (RFC 9162 §2.1.3.2) leads from the entry's leaf to the checkpoint's root.
    static let inclusionProofScript = #"""
        import base64, hashlib, json, sys
        report, entry = json.load(open(sys.argv[1])), open(sys.argv[2], "rb").read()
        origin, size, root = open(sys.argv[3]).read().split("\n")[:3]
        log = report["auditLog"]
        if entry != log["entry"].encode() or log["checkpoint"] != open(sys.argv[3]).read() or int(size) != log["treeSize"]:
            sys.exit("audit-entry.json or checkpoint.txt is NOT the report's")
        def node(left, right): return hashlib.sha256(b"\x01" + left + right).digest()
        index, last, hash = log["leafIndex"], log["treeSize"] - 1, hashlib.sha256(b"\x00" + entry).digest()
        for sibling in map(base64.b64decode, log["inclusionProof"]):
            if last == 0: sys.exit("the inclusion proof is too long")
            if index % 2 == 1 or index == last:
                hash = node(sibling, hash)
                while index % 2 == 0 and index != 0: index, last = index >> 1, last >> 1
            else:
                hash = node(hash, sibling)
            index, last = index >> 1, last >> 1
        if last != 0 or base64.b64encode(hash).decode() != root:
            sys.exit("the inclusion proof does NOT lead to the checkpoint's root")
        print("entry %d is in the log of %d entries whose root the checkpoint signs" % (log["leafIndex"], log["treeSize"]))

        """#

    /// Check 7 of docs/auditors.md: inventory.txt is the report's object list, and its SHA-256
    /// is the report's inventory digest.
    static let inventoryScript = #"""
        import hashlib, json, sys
        inventory, listed = json.load(open(sys.argv[1]))["inventory"], open(sys.argv[2], "rb").read()
        lines = "".join("%s %d %s\n" % (o["key"], o["size"], o["sha256"]) for o in sorted(inventory["objects"], key=lambda o: o["key"].encode()))
        if listed != lines.encode() or hashlib.sha256(listed).hexdigest() != inventory["digest"]:
            sys.exit("inventory.txt or its digest is NOT the report's inventory")
        print("the inventory digest covers the %d objects the report lists" % len(inventory["objects"]))

        """#
}
