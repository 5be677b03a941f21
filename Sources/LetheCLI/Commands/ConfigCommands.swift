import LetheCore

enum ConfigCommands {
    static let specs = [show, set]

    static let show = CommandSpec(
        ["config", "show"],
        summary: "show the configuration (lethe.json)",
        usage: "config show [--json]",
        options: [.json]
    ) { invocation in
        _ = try invocation.positionals(0...0, "")
        let configuration = try invocation.home.loadConfiguration()
        invocation.console.print(try JSONOutput.string(configuration))
        return .success
    }

    /// The settings `config set` changes, and how.
    private static let setters: [String: @Sendable (inout Configuration, String) throws -> Void] = [
        "restoreWindowDays": { $0.restoreWindowDays = try number($1) },
        "pruneMaxUnusedPercent": { $0.pruneMaxUnusedPercent = try number($1) },
        "verifyRotationNights": { $0.verifyRotationNights = try number($1) },
        "leaseSeconds": { $0.leaseSeconds = try number($1) },
        "retention.keepLast": { $0.retention.keepLast = try optionalNumber($1) },
        "retention.keepDaily": { $0.retention.keepDaily = try optionalNumber($1) },
        "retention.keepWeekly": { $0.retention.keepWeekly = try optionalNumber($1) },
        "retention.keepMonthly": { $0.retention.keepMonthly = try optionalNumber($1) },
        "notifications.command": { $0.notifications.command = $1.isEmpty ? nil : $1 },
        "notifications.webhook": { $0.notifications.webhook = $1.isEmpty ? nil : $1 },
        "metricsFile": { $0.metricsFile = $1.isEmpty ? nil : $1 },
    ]

    private static func number(_ text: String) throws -> Int {
        guard let value = Int(text) else { throw UsageError(message: "\"\(text)\" is not a whole number", command: "lethe config set") }
        return value
    }

    private static func optionalNumber(_ text: String) throws -> Int? {
        text == "none" || text.isEmpty ? nil : try number(text)
    }

    static let set = CommandSpec(
        ["config", "set"],
        summary: "change one setting of lethe.json",
        usage: "config set KEY VALUE",
        details: "KEY is one of: " + setters.keys.sorted().joined(separator: ", ")
            + ".\nRetention rules take a number or `none`; text settings take \"\" to unset."
    ) { invocation in
        let words = try invocation.positionals(2...2, "KEY VALUE")
        if ["gracePeriodHours", "approvalPolicy.required", "approvalPolicy.minimumDPOs"].contains(words[0]) {
            throw invocation.usageError(
                "\(words[0]) lives in the authorizer registry, so that only the authorizers can change it: "
                    + "`lethe authorizer policy` proposes a change, and they sign it")
        }
        guard let setter = setters[words[0]] else {
            throw invocation.usageError("unknown setting \(words[0]); settings: \(setters.keys.sorted().joined(separator: ", "))")
        }
        var configuration = try invocation.home.loadConfiguration()
        try setter(&configuration, words[1])
        try invocation.home.saveConfiguration(configuration)
        try AuditTrail(try invocation.installation()).record("config.set", tenant: nil, details: ["key": words[0], "value": words[1]])
        invocation.console.print("\(words[0]) = \(words[1])")
        return .success
    }
}
