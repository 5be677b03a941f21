import Foundation
import LetheCore
import LetheStore

/// Security incidents and their Art. 33 clocks (docs/records.md). Lethe opens them; people
/// acknowledge and close them, with a note. Their state is folded from the signed audit log.
enum IncidentCommands {
    static let specs = [list, show, ack, close]

    /// An incident with the hours left on its clock, as `--json` prints it.
    struct View: Encodable {
        let incident: Incident
        let hoursLeft: Double?
    }

    static func view(_ incident: Incident, now: Date) -> View {
        View(incident: incident, hoursLeft: incident.status.isRunning ? incident.hoursLeft(at: now) : nil)
    }

    static func clock(_ view: View) -> String {
        guard let hours = view.hoursLeft else { return "-" }
        return hours >= 0 ? "\(hours) h left" : "\(-hours) h OVERDUE"
    }

    static let list = CommandSpec(
        ["incident", "list"],
        summary: "list running incidents with the hours left on their Art. 33 clocks",
        usage: "incident list [--all] [--json]",
        details: """
            Running incidents (open or acknowledged), oldest first; --all adds the closed ones. Each has a type
            (confidentiality, integrity, availability), the time it was detected, its deadline (detected + 72 h)
            and the hours left until it. Lethe opens them when verification finds an integrity violation, a
            destruction check fails, tampering is detected, or a tenant's backup fails on several nights in a row.
            """,
        options: [OptionSpec("--all", "include closed incidents"), .json]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        let installation = try invocation.installation()
        let all = try Incidents(installation).all()
        let shown = (invocation.arguments.flag("--all") ? all : all.filter { $0.status.isRunning }).map { view($0, now: installation.now) }
        if invocation.json {
            try invocation.console.json(shown)
            return .success
        }
        guard !shown.isEmpty else {
            invocation.console.print(invocation.arguments.flag("--all") ? "No incidents." : "No running incidents.")
            return .success
        }
        var rows = [["INCIDENT", "TYPE", "STATUS", "DETECTED", "DEADLINE", "CLOCK", "TENANTS", "SUMMARY"]]
        for v in shown {
            let i = v.incident
            rows.append([i.id, i.type.rawValue, i.status.rawValue, i.detected, i.deadline, clock(v),
                         i.tenants.isEmpty ? "-" : i.tenants.joined(separator: " "), i.summary])
        }
        Format.table(rows).forEach(invocation.console.print)
        return .success
    }

    static let show = CommandSpec(
        ["incident", "show"],
        summary: "show one incident: what, when, the deadline, affected tenants and objects, notes",
        usage: "incident show ID [--json]",
        options: [.json]
    ) { invocation in
        _ = try invocation.positionals(1...1, "incident ID")
        let installation = try invocation.installation()
        try print(view(try Incidents(installation).incident(invocation.arguments.positionals[0]), now: installation.now), invocation)
        return .success
    }

    static func print(_ v: View, _ invocation: Invocation) throws {
        if invocation.json {
            try invocation.console.json(v)
            return
        }
        let c = invocation.console
        let i = v.incident
        c.print("incident      \(i.id)")
        c.print("type          \(i.type.rawValue)")
        c.print("status        \(i.status.rawValue)")
        c.print("summary       \(i.summary)")
        c.print("found by      \(i.source)")
        c.print("detected      \(i.detected)" + (i.detections > 1 ? " (detected \(i.detections) times, last \(i.lastDetected))" : ""))
        c.print("deadline      \(i.deadline) (Art. 33: detected + \(Incident.deadlineHours) h), \(clock(v))")
        c.print("tenants       " + (i.tenants.isEmpty ? "-" : i.tenants.joined(separator: " ")))
        c.print("objects")
        for object in i.objects { c.print("  \(object)") }
        if let note = i.acknowledged { c.print("acknowledged  \(note.at) by \(note.by): \(note.note)") }
        if let note = i.closed { c.print("closed        \(note.at) by \(note.by): \(note.note)") }
        c.print("audit entries " + i.entries.map(String.init).joined(separator: " "))
    }

    static let ack = CommandSpec(
        ["incident", "ack"],
        summary: "acknowledge an incident: someone is on it (the clock keeps running)",
        usage: "incident ack ID --note TEXT [--json]",
        options: [OptionSpec("--note", value: "TEXT", "who is on it, what was done (recorded)"), .json]
    ) { invocation in
        _ = try invocation.positionals(1...1, "incident ID")
        let installation = try invocation.installation()
        let incident = try Incidents(installation).acknowledge(invocation.arguments.positionals[0], note: invocation.arguments.value("--note") ?? "")
        try print(view(incident, now: installation.now), invocation)
        return .success
    }

    static let close = CommandSpec(
        ["incident", "close"],
        summary: "close an incident, with the note that says how it ended",
        usage: "incident close ID --note TEXT [--json]",
        details: """
            A closed incident stays in `incident list --all` and in the audit log. The same problem detected
            again afterwards opens a new incident.
            """,
        options: [OptionSpec("--note", value: "TEXT", "how it ended: cause, remedy, whether the controller was told"), .json]
    ) { invocation in
        _ = try invocation.positionals(1...1, "incident ID")
        let installation = try invocation.installation()
        let incident = try Incidents(installation).close(invocation.arguments.positionals[0], note: invocation.arguments.value("--note") ?? "")
        try print(view(incident, now: installation.now), invocation)
        return .success
    }
}
