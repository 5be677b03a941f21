/// One verb of `lethe`: its words, its help, its options, and what it runs.
struct CommandSpec: Sendable {
    let words: [String]
    let summary: String
    /// The synopsis after `lethe` (`keys status [--json]`).
    let usage: String
    /// Further help: what it does, why, and what its output means.
    let details: String
    let options: [OptionSpec]
    let run: @Sendable (Invocation) throws -> ExitCode

    init(
        _ words: [String], summary: String, usage: String, details: String = "", options: [OptionSpec] = [],
        run: @escaping @Sendable (Invocation) throws -> ExitCode
    ) {
        self.words = words
        self.summary = summary
        self.usage = usage
        self.details = details
        self.options = options
        self.run = run
    }

    var fullName: String { (["lethe"] + words).joined(separator: " ") }

    static let globalOptions: [OptionSpec] = [
        OptionSpec("--home", value: "DIR", "the Lethe data directory (default: $LETHE_HOME, else ~/.lethe)"),
        OptionSpec("--help", "show this help"),
    ]

    var help: String {
        var text = "\(summary)\n\nUsage: lethe \(usage)\n"
        if !details.isEmpty { text += "\n\(details)\n" }
        let all = options + CommandSpec.globalOptions
        let labels = all.map { option in option.value.map { "\(option.name) \($0)" } ?? option.name }
        let width = (labels.map { $0.count }.max() ?? 0) + 2
        text += "\nOptions:\n"
        for (label, option) in zip(labels, all) {
            text += "  " + label + String(repeating: " ", count: width - label.count) + option.help + "\n"
        }
        return text
    }
}
