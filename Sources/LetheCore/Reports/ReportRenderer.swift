import Foundation

/// A destruction report as one self-contained, printable HTML page (inline styles, no
/// scripts, no external resources). The rendering is for people; the JSON is what is signed.
public enum ReportRenderer {
    public static func html(_ report: DestructionReport) -> String {
        let allPassed = report.verification.allSatisfy(\.passed)
        var body = """
            <h1>Destruction report</h1>
            <p class="sub">\(e(report.reportID)) · tenant <b>\(e(report.tenant.name))</b> (\(e(report.tenant.id))) · \
            finished \(e(report.finished))</p>
            <p class="outcome \(allPassed ? "ok" : "bad")">\(allPassed ? "Destroyed and verified" : "Verification FAILED")</p>
            <h2>Grounds</h2>
            \(table([("Reason", report.reason.rawValue), ("Legal basis", report.legalBasis), ("Request", report.request.id),
                     ("Requested by", "\(report.request.requester) at \(report.request.requested)"),
                     ("Note", report.request.note ?? "—"), ("Request SHA-256", report.request.sha256)]))
            <h2>Approvals</h2>
            <p>Policy: \(e(report.policy.summary)).</p>
            <table><tr><th>Authorizer</th><th>Role</th><th>Key fingerprint</th><th>Time</th><th>Signature (Ed25519)</th></tr>
            """
        for approval in report.approvals {
            body += "<tr><td>\(e(approval.authorizer))</td><td>\(e(approval.role.rawValue))</td><td class=\"mono\">\(e(approval.keyFingerprint))</td>"
                + "<td>\(e(approval.time))</td><td class=\"mono small\">\(e(approval.signature))</td></tr>\n"
        }
        body += "</table>\n<h2>Method</h2>\n<p>\(e(report.method))</p>\n<h2>Key evidence</h2>\n"
        body += table([
            ("Data key id", report.keyEvidence.dekID), ("Data key commitment", report.keyEvidence.dekCommitment),
            ("KEK epoch before", String(report.keyEvidence.kekEpochBefore)), ("KEK epoch after", String(report.keyEvidence.kekEpochAfter)),
            ("KEK provider", report.keyEvidence.kekProvider),
        ])
        body += "<h2>Verification</h2>\n<table><tr><th>Check</th><th>Result</th><th>Detail</th></tr>\n"
        for check in report.verification {
            body += "<tr><td>\(e(check.check))</td><td class=\"\(check.passed ? "ok" : "bad")\">\(check.passed ? "passed" : "FAILED")</td><td>\(e(check.detail))</td></tr>\n"
        }
        body += "</table>\n<h2>Inventory destroyed</h2>\n"
        body += table([("Objects", String(report.inventory.objectCount)), ("Bytes", String(report.inventory.bytes)),
                       ("Digest (SHA-256)", report.inventory.digest)])
        body += table([
            ("Store", report.storage.location), ("Versioning", report.storage.versioning.rawValue),
            ("Object versions deleted", String(report.storage.versionsDeleted)),
            ("Delete markers deleted", String(report.storage.deleteMarkersDeleted)),
        ])
        body += "<h3>Storage locations touched</h3>\n<ul>\n" + report.storageLocations.map { "<li class=\"mono\">\(e($0))</li>" }.joined(separator: "\n") + "\n</ul>\n"
        body += "<h3>Objects</h3>\n<table class=\"small\"><tr><th>Key</th><th>Bytes</th><th>SHA-256</th></tr>\n"
        for item in report.inventory.objects {
            body += "<tr><td class=\"mono\">\(e(item.key))</td><td>\(item.size)</td><td class=\"mono\">\(e(item.sha256))</td></tr>\n"
        }
        body += "</table>\n<h2>Times, software, signer</h2>\n"
        body += table([
            ("Started", report.started), ("Finished", report.finished),
            ("Software", "\(report.software.name) \(report.software.version) on \(report.software.host)"),
            ("Signer key fingerprint", report.signer.keyFingerprint),
        ])
        body += "<h2>Audit log</h2>\n"
        body += table([("Leaf index", String(report.auditLog.leafIndex)), ("Tree size", String(report.auditLog.treeSize))])
        body += "<p>Checkpoint:</p><pre>\(e(report.auditLog.checkpoint))</pre>\n"
        body += "<p>Inclusion proof (RFC 9162):</p><pre>\(e(report.auditLog.inclusionProof.joined(separator: "\n")))</pre>\n"
        body += "<h2>Outside the service's reach</h2>\n<p>\(e(report.outsideReach))</p>\n"
        body += """
            <h2>How to check this report</h2>
            <p>This page is a rendering. The signed document is <code>\(e(report.reportID)).json</code>, with its Ed25519
            signature in <code>\(e(report.reportID)).sig</code>. With the service's public key:</p>
            <pre>openssl pkeyutl -verify -pubin -inkey signing-key.pub.pem -rawin -in \(e(report.reportID)).json -sigfile \(e(report.reportID)).sig</pre>
            <p>See docs/auditors.md for the inclusion proof and the approvals.</p>
            """
        return page(title: "Destruction report \(report.reportID)", body: body)
    }

    /// The page around `body`: one self-contained document with inline styles.
    static func page(title: String, body: String) -> String {
        """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(e(title))</title>
            <style>
            body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 60em; margin: 2em auto; color: #111; }
            h1 { margin-bottom: 0; } .sub { color: #555; margin-top: .2em; }
            table { border-collapse: collapse; width: 100%; margin: .5em 0 1em; } th, td { border: 1px solid #ccc; padding: .3em .5em; text-align: left; vertical-align: top; }
            th { background: #f3f3f3; } .mono, pre, code { font-family: Menlo, Consolas, monospace; word-break: break-all; }
            .small { font-size: 80%; } pre { background: #f7f7f7; padding: .6em; white-space: pre-wrap; }
            .outcome { font-size: 120%; font-weight: bold; padding: .4em .6em; display: inline-block; }
            .ok { color: #0a5a1a; } .bad { color: #a00; } .outcome.ok { background: #e6f4e9; } .outcome.bad { background: #fbe5e5; }
            @media print { body { margin: 0; } h2 { page-break-after: avoid; } tr { page-break-inside: avoid; } }
            </style></head>
            <body>
            \(body)
            </body></html>

            """
    }

    static func table(_ rows: [(String, String)]) -> String {
        "<table>\n" + rows.map { "<tr><th>\(e($0.0))</th><td>\(e($0.1))</td></tr>" }.joined(separator: "\n") + "\n</table>\n"
    }

    /// HTML-escapes text.
    static func e(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
