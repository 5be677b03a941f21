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
        "compressionMinimumSavingPercent": { $0.compressionMinimumSavingPercent = try optionalNumber($1) },
        "verifyRotationNights": { $0.verifyRotationNights = try number($1) },
        "leaseSeconds": { $0.leaseSeconds = try number($1) },
        "incidentBackupFailureNights": { $0.incidentBackupFailureNights = try number($1) },
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
        summary: "change settings of lethe.json (signed anew by the service key)",
        usage: "config set KEY VALUE [KEY VALUE …]",
        details: "KEY is one of: " + (setters.keys.sorted() + ["keysDirectory", "storeDirectory"]).joined(separator: ", ")
            + ".\nRetention rules take a number or `none`; text settings take \"\" to unset. keysDirectory and\n"
            + "storeDirectory say where the keys and the store were moved (absolute, or relative to the home); the\n"
            + "key directory must be this installation's. lethe.json is signed: this is the one way to change it."
    ) { invocation in
        let words = try invocation.positionals(2...64, "KEY VALUE")
        guard words.count % 2 == 0 else { throw invocation.usageError("settings come in KEY VALUE pairs") }
        var configuration = try invocation.home.loadConfiguration()
        var changed: [(String, String)] = []
        for pair in stride(from: 0, to: words.count, by: 2) {
            let (key, value) = (words[pair], words[pair + 1])
            if ["gracePeriodHours", "approvalPolicy.required", "approvalPolicy.minimumDPOs"].contains(key) {
                throw invocation.usageError(
                    "\(key) lives in the authorizer registry, so that only the authorizers can change it: "
                        + "`lethe authorizer policy` proposes a change, and they sign it")
            }
            switch key {
            case "keysDirectory": configuration.keysDirectory = value
            case "storeDirectory": configuration.storeDirectory = value
            default:
                guard let setter = setters[key] else {
                    throw invocation.usageError("unknown setting \(key); settings: \(setters.keys.sorted().joined(separator: ", "))")
                }
                try setter(&configuration, value)
            }
            changed.append((key, value))
        }
        try invocation.home.saveConfiguration(configuration)
        try AuditTrail(try invocation.installation()).record(changed.map { key, value in
            AuditLog.Event("config.set", tenant: nil, details: ["key": key, "value": value])
        })
        for (key, value) in changed { invocation.console.print("\(key) = \(value)") }
        return .success
    }
}
