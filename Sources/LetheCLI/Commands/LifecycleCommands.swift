import LetheCore
import LetheStore

enum LifecycleCommands {
    static let specs = [offboard, reactivate, hold, release, retention, due]

    /// Runs a lifecycle change (which records itself in the audit log) and prints the new state.
    private static func change(_ invocation: Invocation, _ body: (Lifecycle, TenantID) throws -> TenantRecord) throws -> ExitCode {
        _ = try invocation.positionals(1...1, "tenant ID")
        let tenant = try invocation.tenant(at: 0)
        let record = try body(Lifecycle(try invocation.installation()), tenant)
        if invocation.json {
            try invocation.console.json(record)
        } else {
            let event = record.events.last!
            invocation.console.print("\(tenant): \(event.event)" + (event.detail.map { " — \($0)" } ?? "") + " (\(event.time))")
        }
        return .success
    }

    static let offboard = CommandSpec(
        ["tenant", "offboard"],
        summary: "the client has left: stop backups, start the restore window",
        usage: "tenant offboard ID [--window-days N] [--json]",
        details: """
            Backups of the tenant stop; its snapshots are kept whole (no retention) for the restore window,
            which starts now: the configured restoreWindowDays (90 by default) unless --window-days says
            otherwise. Inside the window the tenant can be restored (the returning-client path) or
            reactivated; after it the tenant is due for destruction (`lethe due`).
            """,
        options: [OptionSpec("--window-days", value: "N", "days to keep the data for a returning client"), .json]
    ) { invocation in
        let days = try invocation.integer("--window-days", range: 0...36_500)
        return try change(invocation) {
            try $0.offboard($1, windowDays: days)
        }
    }

    static let reactivate = CommandSpec(
        ["tenant", "reactivate"],
        summary: "the client is back: resume nightly backups",
        usage: "tenant reactivate ID [--json]",
        options: [.json]
    ) { invocation in
        try change(invocation) { try $0.reactivate($1) }
    }

    static let hold = CommandSpec(
        ["tenant", "hold"],
        summary: "place a legal hold: the tenant is never due and cannot be destroyed",
        usage: "tenant hold ID --reason TEXT [--json]",
        options: [OptionSpec("--reason", value: "TEXT", "why (recorded)"), .json]
    ) { invocation in
        let reason = invocation.arguments.value("--reason") ?? ""
        return try change(invocation) { try $0.hold($1, reason: reason) }
    }

    static let release = CommandSpec(
        ["tenant", "release"],
        summary: "lift a legal hold",
        usage: "tenant release ID --reason TEXT [--json]",
        options: [OptionSpec("--reason", value: "TEXT", "why the hold ends (recorded)"), .json]
    ) { invocation in
        let reason = invocation.arguments.value("--reason") ?? ""
        return try change(invocation) { try $0.release($1, reason: reason) }
    }

    static let retention = CommandSpec(
        ["tenant", "retention"],
        summary: "set the tenant's own retention policy, or return it to the default",
        usage: "tenant retention ID [--keep-last N] [--keep-daily N] [--keep-weekly N] [--keep-monthly N] | --default",
        details: """
            Without a policy of its own a tenant follows `retention` in lethe.json (keep 7 daily, 4 weekly,
            3 monthly unless changed). The newest snapshot is always kept.
            """,
        options: [
            OptionSpec("--keep-last", value: "N", "keep the newest N snapshots"),
            OptionSpec("--keep-daily", value: "N", "keep the newest snapshot of each of the last N days"),
            OptionSpec("--keep-weekly", value: "N", "keep the newest snapshot of each of the last N weeks"),
            OptionSpec("--keep-monthly", value: "N", "keep the newest snapshot of each of the last N months"),
            OptionSpec("--default", "use the configured default policy"),
            .json,
        ]
    ) { invocation in
        let policy = RetentionPolicy(
            keepLast: try invocation.integer("--keep-last"), keepDaily: try invocation.integer("--keep-daily"),
            keepWeekly: try invocation.integer("--keep-weekly"), keepMonthly: try invocation.integer("--keep-monthly"))
        let useDefault = invocation.arguments.flag("--default")
        guard useDefault != !policy.keepsEverything else {
            throw invocation.usageError("give --default or at least one --keep-… option")
        }
        return try change(invocation) {
            try $0.setRetention($1, useDefault ? nil : policy)
        }
    }

    static let due = CommandSpec(
        ["due"],
        summary: "list tenants past their restore window and not on hold, with days overdue",
        usage: "due [--json]",
        options: [.json]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        let due = try Lifecycle(try invocation.installation()).due()
        if invocation.json {
            try invocation.console.json(due)
            return .success
        }
        guard !due.isEmpty else {
            invocation.console.print("No tenant is due.")
            return .success
        }
        var rows = [["TENANT", "NAME", "OFFBOARDED", "WINDOW ENDED", "DAYS OVERDUE", "REQUEST"]]
        for tenant in due {
            rows.append([tenant.tenant, tenant.name, tenant.offboardedAt, tenant.windowEnd, String(tenant.daysOverdue), tenant.destructionRequest ?? "-"])
        }
        Format.table(rows).forEach(invocation.console.print)
        return .success
    }
}
