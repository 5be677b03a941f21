import Foundation

/// A destruction report as one self-contained, printable HTML page (inline styles, no
/// scripts, no external resources). The rendering is for people; the JSON is what is signed.
///
/// It is laid out for A4 paper: numbered sections that are never split across pages (each
/// ends with a small "end of section N" line, which is what a test of the print looks for),
/// table headers repeated on every page a table spans, and hashes, keys and signatures broken
/// only between groups of 16 characters, never prose mid-word. Only the list of destroyed
/// objects, which can be longer than a page, flows across pages, row by row.
public enum ReportRenderer {
    public static func html(_ report: DestructionReport) -> String {
        let allPassed = report.verification.allSatisfy(\.passed)
        var sections = Sections()
        sections.add("Grounds", keyValues([
            ("Reason", e(report.reason.rawValue)), ("Legal basis", e(report.legalBasis)), ("Request", code(report.request.id)),
            ("Requested by", "\(e(report.request.requester)) at \(e(report.request.requested))"),
            ("Note", e(report.request.note ?? "—")), ("Request SHA-256", hash(report.request.sha256)),
        ]))
        sections.add("Approvals", "<p>Policy: \(e(report.policy.summary)); grace period \(report.gracePeriodHours) hours.</p>\n"
            + table(["Authorizer", "Role", "Key fingerprint", "Time", "Signature (Ed25519)"], widths: [14, 10, 28, 18, 30],
                    report.approvals.map { [e($0.authorizer), e($0.role.rawValue), hash($0.keyFingerprint), e($0.time), hash($0.signature)] }))
        sections.add("Method", "<p>\(e(report.method))</p>")
        sections.add("Key evidence", keyValues([
            ("Data key id", code(report.keyEvidence.dekID)), ("Data key commitment", hash(report.keyEvidence.dekCommitment)),
            ("KEK epoch in use before", String(report.keyEvidence.kekEpochBefore)),
            ("KEK epoch in use after", "\(report.keyEvidence.kekEpochAfter) (epoch \(report.keyEvidence.kekEpochBefore)'s key destroyed)"),
            ("KEK provider", code(report.keyEvidence.kekProvider)),
        ]))
        sections.add("Verification", table(["Check", "Result", "Detail"], widths: [30, 10, 60], report.verification.map {
            [e($0.check), "<span class=\"\($0.passed ? "ok" : "bad")\">\($0.passed ? "passed" : "FAILED")</span>", prose($0.detail)]
        }))
        if let register = report.register {
            func list(_ values: [String]) -> String { values.isEmpty ? "—" : e(values.joined(separator: "; ")) }
            sections.add("Record of processing (register)", keyValues([
                ("Data categories", list(register.dataCategories)), ("Data subjects", list(register.subjectCategories)),
                ("Purposes", list(register.purposes)), ("Retention basis", e(register.retentionBasis ?? "—")),
                ("Sub-processors", list(register.subProcessors)), ("Entry updated", "\(e(register.updated)) by \(e(register.updatedBy))"),
            ]))
        } else {
            sections.add("Record of processing (register)", "<p>No register entry was set for this tenant when destruction was requested.</p>")
        }
        sections.add("Inventory destroyed", keyValues([
            ("Objects", String(report.inventory.objectCount)), ("Bytes", String(report.inventory.bytes)),
            ("Digest (SHA-256)", hash(report.inventory.digest)), ("Store", code(report.storage.location)),
            ("Versioning", e(report.storage.versioning.rawValue)), ("Object versions deleted", String(report.storage.versionsDeleted)),
            ("Delete markers deleted", String(report.storage.deleteMarkersDeleted)),
        ]) + "<p>Storage locations touched:</p>\n<ul>\n" + report.storageLocations.map { "<li><code>\(prose($0))</code></li>" }.joined(separator: "\n") + "\n</ul>")
        sections.add("Objects destroyed", table(["Key", "Bytes", "SHA-256"], widths: [46, 12, 42], report.inventory.objects.map {
            [path($0.key), String($0.size), hash($0.sha256)]
        }, small: true), flows: true)
        sections.add("Times, software, signer", keyValues([
            ("Started", e(report.started)), ("Finished", e(report.finished)),
            ("Software", "\(e(report.software.name)) \(e(report.software.version)) on \(e(report.software.host))"),
            ("Signer key fingerprint", hash(report.signer.keyFingerprint)),
        ]))
        sections.add("Audit log", keyValues([
            ("Leaf index", String(report.auditLog.leafIndex)), ("Tree size", String(report.auditLog.treeSize)),
            ("Leaf hash", hash(ReportCheckCommands.leafHash(report))),
        ]) + "<p>Checkpoint:</p><pre>\(e(report.auditLog.checkpoint))</pre>\n"
            + "<p>Inclusion proof (RFC 9162):</p><pre>\(e(report.auditLog.inclusionProof.joined(separator: "\n")))</pre>")
        sections.add("Outside the service's reach", "<p>\(e(report.outsideReach))</p>")
        sections.add("How to check this report", """
            <p>This page is a rendering; what is signed is <code>\(e(report.reportID)).json</code>, with its Ed25519 signature in
            <code>\(e(report.reportID)).sig</code>. Both are in the evidence bundle (<code>lethe report export</code>) beside
            <code>request.json</code>, the approvals, <code>audit-entry.json</code>, <code>checkpoint.txt</code> and
            <code>inventory.txt</code>. Copy the service's public key, which you hold from the operator (never one from a bundle),
            into that folder as <code>signing-key.pub.pem</code>, and run these commands there with stock <code>openssl</code> and
            <code>python3</code>. Each <code>pkeyutl -verify</code> prints <i>Signature Verified Successfully</i>; the values to
            compare are the signed JSON's, repeated here. <code>lethe report verify</code> checks all of this, and the
            authorizers' registry, in one command.</p>
            <pre class="commands">\(e(ReportCheckCommands.script(report)))</pre>
            """)
        return page(title: "Destruction report \(report.reportID)", body: """
            <header>
            <h1>Destruction report</h1>
            <p class="sub">\(code(report.reportID)) · tenant <b>\(e(report.tenant.name))</b> (\(code(report.tenant.id))) · finished \(e(report.finished))</p>
            <p class="outcome \(allPassed ? "ok" : "bad")">\(allPassed ? "Destroyed and verified" : "Verification FAILED")</p>
            </header>
            \(sections.html)
            """)
    }

    /// The page around `body`: one self-contained A4 document with inline styles (also the
    /// erasure certificate's).
    static func page(title: String, body: String) -> String {
        """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(e(title))</title>
            <style>
            @page { size: A4; margin: 15mm 14mm 16mm; }
            html { font: 10pt/1.35 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: #111; }
            body { margin: 0 auto; max-width: 182mm; }
            @media screen { body { margin: 2em auto; padding: 0 1em; } }
            h1 { font-size: 18pt; margin: 0; } .sub { color: #444; margin: .2em 0 .6em; }
            h2 { font-size: 12.5pt; margin: 0 0 .4em; padding-bottom: .1em; border-bottom: 1px solid #bbb; break-after: avoid; page-break-after: avoid; }
            section { margin: 0 0 1.1em; break-inside: avoid; page-break-inside: avoid; }
            section.flows { break-inside: auto; page-break-inside: auto; }
            table { border-collapse: collapse; width: 100%; table-layout: fixed; margin: .3em 0 .5em; }
            thead { display: table-header-group; } tr { break-inside: avoid; page-break-inside: avoid; }
            th, td { border: 1px solid #bbb; padding: .25em .45em; text-align: left; vertical-align: top; overflow-wrap: break-word; }
            th { background: #f0f0f0; } table.kv th { width: 30%; }
            code, .hash, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 8.5pt; }
            .hash { overflow-wrap: anywhere; } table.small { font-size: 8.5pt; }
            pre { background: #f6f6f6; padding: .5em .6em; margin: .3em 0; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 7.5pt; line-height: 1.25; }
            ul { margin: .2em 0; padding-left: 1.4em; }
            .outcome { font-size: 12pt; font-weight: bold; padding: .3em .6em; display: inline-block; margin: 0 0 .8em; }
            .ok { color: #0a5a1a; } .bad { color: #a00; } .outcome.ok { background: #e6f4e9; } .outcome.bad { background: #fbe5e5; }
            .end { font-size: 6.5pt; color: #999; text-align: right; margin: .2em 0 0; }
            </style></head>
            <body>
            \(body)
            </body></html>

            """
    }

    /// Numbered sections, each closed by its end line.
    private struct Sections {
        var html = ""
        var count = 0

        mutating func add(_ title: String, _ body: String, flows: Bool = false) {
            count += 1
            html += "<section\(flows ? " class=\"flows\"" : "") id=\"section-\(count)\">\n<h2>\(count). \(e(title))</h2>\n\(body)\n"
                + "<p class=\"end\">end of section \(count)</p>\n</section>\n"
        }
    }

    /// A table with a header row that repeats on every page, and column widths in percent.
    private static func table(_ headers: [String], widths: [Int], _ rows: [[String]], small: Bool = false) -> String {
        "<table\(small ? " class=\"small\"" : "")>\n<colgroup>" + widths.map { "<col style=\"width:\($0)%\">" }.joined() + "</colgroup>\n"
            + "<thead><tr>" + headers.map { "<th>\(e($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
            + rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>" }.joined(separator: "\n") + "\n</tbody>\n</table>"
    }

    /// Label and value rows of plain text (escaped here).
    static func table(_ rows: [(String, String)]) -> String {
        keyValues(rows.map { ($0.0, e($0.1)) })
    }

    /// Label and value rows; values are HTML already.
    private static func keyValues(_ rows: [(String, String)]) -> String {
        "<table class=\"kv\">\n<tbody>\n" + rows.map { "<tr><th>\(e($0.0))</th><td>\($0.1)</td></tr>" }.joined(separator: "\n") + "\n</tbody>\n</table>"
    }

    /// A hash, key, fingerprint or signature: monospace, breakable after every 16 characters
    /// (and after a "SHA256:" prefix), and, in a column too narrow for 16, anywhere.
    static func hash(_ text: String) -> String {
        var out = "<span class=\"hash\">"
        var run = 0
        for character in text {
            out += e(String(character))
            run += 1
            if character == ":" || run == 16 {
                out += "<wbr>"
                run = 0
            }
        }
        return out + "</span>"
    }

    /// An identifier or path: monospace, wrapped only after a "/".
    private static func code(_ text: String) -> String {
        "<code>" + e(text).replacingOccurrences(of: "/", with: "/<wbr>") + "</code>"
    }

    /// An object key: monospace, wrapped after a "/" and, within a long name (a hash), between
    /// groups of 16 characters.
    private static func path(_ key: String) -> String {
        "<code>" + key.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.count > 16 ? hash(String(part)) : e(String(part))
        }.joined(separator: "/<wbr>") + "</code>"
    }

    /// Text with paths in it: words wrap as words, a path also after each "/", and a word longer
    /// than its column (a hash inside a path) where it must (the cells' `overflow-wrap`).
    private static func prose(_ text: String) -> String {
        e(text).replacingOccurrences(of: "/", with: "/<wbr>")
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
