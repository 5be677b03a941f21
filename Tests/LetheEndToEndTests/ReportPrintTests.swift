import Foundation
import Testing

/// A destruction report's HTML rendering, printed to A4 by headless Chromium (Debian
/// `chromium`) and read back page by page with poppler's `pdftotext`: A4 pages, no section
/// split across pages, the object table's header on every page it spans. And the page's own
/// "How to check this report" commands, run as printed in the evidence bundle, check it.
@Suite struct ReportPrintTests {
    let destruction = DestructionCLITests()

    /// A destroyed tenant with `backups` snapshots (one file changed before each), so that the
    /// object table is as long as wanted, and its exported evidence bundle.
    func exported(backups: Int) throws -> (home: E2EHome, report: String, evidence: String) {
        let home = try destruction.prepared(acmeBackups: backups)
        let id = try destruction.approved(home)
        let execute = home.lethe(["destroy", "execute", id], environment: destruction.at(3.1))
        #expect(execute.status == 0, "\(execute.output)")
        let report = "rpt-" + id.dropFirst(3)
        let evidence = "\(home.root)/evidence"
        let export = home.lethe("report", "export", report, "--output", evidence)
        #expect(export.status == 0, "\(export.output)")
        return (home, report, evidence)
    }

    static func chromium(_ arguments: [String], in directory: String) -> E2ERun {
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = directory
        return E2EHome.run("/usr/bin/chromium", [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--user-data-dir=\(directory)/chromium",
        ] + arguments, environment: environment, directory: directory)
    }

    /// The text of each page of `pdf`, as lines without surrounding blanks.
    static func pages(_ pdf: String) throws -> [[String]] {
        let info = E2EHome.run("/usr/bin/pdfinfo", [pdf])
        try #require(info.status == 0, "\(info.output)")
        #expect(info.stdout.contains("(A4)"), "\(info.stdout)")
        let count = try #require(info.stdout.split(separator: "\n").first { $0.hasPrefix("Pages:") }
            .flatMap { Int($0.dropFirst(6).trimmingCharacters(in: .whitespaces)) })
        return (1...count).map { page in
            E2EHome.run("/usr/bin/pdftotext", ["-f", String(page), "-l", String(page), pdf, "-"]).stdout
                .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    /// Text that runs out of its place, as poppler sees the printed words (`pdftotext -bbox`):
    /// a word past the right margin of 14 mm, or two words on one line that overlap (a value
    /// overflowing its table cell into the next).
    static func overflows(_ pdf: String) -> [String] {
        let bbox = E2EHome.run("/usr/bin/pdftotext", ["-bbox", pdf, "-"]).stdout
        func number(_ tag: Substring, _ name: String) -> Double {
            Double(tag.components(separatedBy: "\(name)=\"").dropFirst().first?.prefix { $0 != "\"" } ?? "") ?? 0
        }
        var problems: [String] = []
        for (index, page) in bbox.components(separatedBy: "<page ").dropFirst().enumerated() {
            let right = number(Substring(page), "width") - 14 / 25.4 * 72 + 1
            var words: [(x0: Double, x1: Double, y: Double, text: String)] = []
            for chunk in page.components(separatedBy: "<word ").dropFirst() {
                let tag = chunk.prefix { $0 != ">" }
                let text = String(chunk.drop { $0 != ">" }.dropFirst().prefix { $0 != "<" })
                words.append((number(tag, "xMin"), number(tag, "xMax"), (number(tag, "yMin") * 2).rounded() / 2, text))
            }
            for word in words where word.x1 > right { problems.append("page \(index + 1): \(word.text) runs past the margin") }
            for line in Dictionary(grouping: words, by: \.y).values {
                let sorted = line.sorted { $0.x0 < $1.x0 }
                for (a, b) in zip(sorted, sorted.dropFirst()) where b.x0 < a.x1 - 0.5 {
                    problems.append("page \(index + 1): \(a.text) overlaps \(b.text)")
                }
            }
        }
        return problems
    }

    /// Section numbers and titles of the page, and which of them may flow across pages.
    static func sections(_ html: String) -> [(number: Int, title: String, flows: Bool)] {
        html.components(separatedBy: "<section").dropFirst().map { chunk in
            let heading = chunk.components(separatedBy: "<h2>")[1].components(separatedBy: "</h2>")[0]
            let number = Int(heading.prefix { $0.isNumber })!
            return (number, heading.replacingOccurrences(of: "&#39;", with: "'"), chunk.hasPrefix(" class=\"flows\""))
        }
    }

    /// With 1 backup of acme the object table fits on a page; with 25 it spans several.
    @Test(arguments: [0, 24])
    func theA4PrintKeepsEverySectionOnOnePageAndRepeatsTableHeaders(backups: Int) throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"), "Scripts/test.sh installs chromium")
        let (home, report, evidence) = try exported(backups: backups)
        defer { withExtendedLifetime(home) {} }
        let html = try String(contentsOfFile: "\(evidence)/\(report).html", encoding: .utf8)
        #expect(!html.contains("docs/"), "the page points to nothing the bundle lacks")
        #expect(html.contains("@page { size: A4"))
        let printing = Self.chromium(["--print-to-pdf=\(evidence)/report.pdf", "file://\(evidence)/\(report).html"], in: evidence)
        #expect(printing.status == 0, "\(printing.output)")
        let pages = try Self.pages("\(evidence)/report.pdf")
        let overflows = Self.overflows("\(evidence)/report.pdf")
        #expect(overflows.isEmpty, "\(overflows.prefix(8).joined(separator: "\n"))")
        let sections = Self.sections(html)
        try #require(sections.count >= 10)
        func pagesHolding(_ line: String) -> [Int] { pages.indices.filter { pages[$0].contains(line) } }
        var previousEnd = 0
        for section in sections {
            let start = pagesHolding(section.title), end = pagesHolding("end of section \(section.number)")
            try #require(start.count == 1 && end.count == 1, "section \(section.title): heading on pages \(start), end on \(end)")
            #expect(start[0] >= previousEnd && end[0] >= start[0], "sections in order: \(section.title)")
            if !section.flows {
                #expect(start[0] == end[0], "\(section.title) is split: it starts on page \(start[0] + 1) and ends on \(end[0] + 1)")
            } else {
                // The objects table may span pages: its header row starts every one of them.
                #expect((end[0] > start[0]) == (backups > 0), "24 backups make an object table longer than a page, 1 does not")
                for page in start[0]...end[0] {
                    #expect(pages[page].contains("Key") && pages[page].contains("SHA-256"), "page \(page + 1) repeats the header")
                }
            }
            previousEnd = end[0]
        }
        // Sections never split, so each page starts a section or continues the flowing one:
        // no more pages than sections, and the tail is not a page of leftovers.
        #expect(pages.count <= sections.count, "\(pages.count) pages for \(sections.count) sections")
        #expect(pages.last?.contains("end of section \(sections.count)") == true)
        // A picture of the first page, to look at (kept beside the test's output when asked).
        if backups > 0, let keep = ProcessInfo.processInfo.environment["LETHE_KEEP_REPORT_PNG"] {
            _ = Self.chromium(["--screenshot=\(keep)", "--window-size=794,1123", "file://\(evidence)/\(report).html"], in: evidence)
            try? FileManager.default.copyItem(atPath: "\(evidence)/report.pdf", toPath: keep + ".pdf")
        }
    }

    /// The commands the page prints, unescaped and run in the bundle with only the system's
    /// programs, check the report; their python3 scripts are docs/auditors.md's, verbatim.
    @Test func thePagesOwnCommandsCheckTheBundle() throws {
        let (home, report, evidence) = try exported(backups: 0)
        try FileManager.default.copyItem(atPath: "\(home.keys)/signing-key.pub.pem", toPath: "\(evidence)/signing-key.pub.pem")
        let html = try String(contentsOfFile: "\(evidence)/\(report).html", encoding: .utf8)
        let escaped = try #require(html.components(separatedBy: "<pre class=\"commands\">").dropFirst().first?.components(separatedBy: "</pre>").first)
        let script = escaped.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
        let run = E2EHome.shell(script, directory: evidence, environment: ["PATH": "/usr/bin:/bin"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stdout.components(separatedBy: "Signature Verified Successfully").count - 1 == 4, "\(run.output)")
        #expect(run.stdout.contains("is in the log of") && run.stdout.contains("the inventory digest covers"), "\(run.output)")
        // Each value the page says a command must print, it prints.
        for line in script.split(separator: "\n") where line.contains("must print ") {
            let expected = String(line.components(separatedBy: "must print ")[1].split(separator: ",")[0])
            #expect(run.stdout.contains(expected), "\(line)")
        }
        let guide = try String(contentsOfFile: "\(E2EHome.repository)/docs/auditors.md", encoding: .utf8)
        let scripts = script.components(separatedBy: "<<'PY'\n").dropFirst().map { $0.components(separatedBy: "PY\n")[0] }
        #expect(scripts.count == 2)
        for python in scripts { #expect(guide.contains(python), "docs/auditors.md holds the same script:\n\(python)") }
        // The report's JSON altered: the page's first command refuses it.
        let path = "\(evidence)/\(report).json"
        try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "acme", with: "acmf").write(toFile: path, atomically: true, encoding: .utf8)
        let tampered = E2EHome.shell(script, directory: evidence, environment: ["PATH": "/usr/bin:/bin"])
        #expect(tampered.status != 0 && tampered.output.contains("Signature Verification Failure"))
    }
}
