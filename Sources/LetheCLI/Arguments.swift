/// One option a command accepts.
struct OptionSpec: Sendable {
    let name: String
    /// The placeholder of the value (`DIR`), or nil for a flag.
    let value: String?
    let help: String
    let repeatable: Bool

    init(_ name: String, value: String? = nil, repeatable: Bool = false, _ help: String) {
        self.name = name
        self.value = value
        self.help = help
        self.repeatable = repeatable
    }

    static let json = OptionSpec("--json", "print the result as JSON")
}

/// The command line after the command's words, parsed against the command's options.
struct ParsedArguments {
    var positionals: [String] = []
    private var values: [String: [String]] = [:]
    private var flags: Set<String> = []
    /// Every option with a value, in the order given (erasure rules are read in order).
    private(set) var ordered: [(name: String, value: String)] = []

    /// Parses `words` (everything after the command's name) for `command`.
    init(_ words: [String], for command: CommandSpec) throws {
        let known = Dictionary(uniqueKeysWithValues: (command.options + CommandSpec.globalOptions).map { ($0.name, $0) })
        var index = 0
        var optionsEnded = false
        while index < words.count {
            let word = words[index]
            index += 1
            if optionsEnded || !word.hasPrefix("-") || word == "-" {
                positionals.append(word)
                continue
            }
            if word == "--" {
                optionsEnded = true
                continue
            }
            var name = word
            var inline: String?
            if let equals = word.firstIndex(of: "=") {
                name = String(word[..<equals])
                inline = String(word[word.index(after: equals)...])
            }
            if name == "-h" { name = "--help" }
            guard let spec = known[name] else {
                let hint = LetheCLI.Suggestion.nearest([name], among: known.keys.sorted()).map { "; did you mean \($0)?" } ?? ""
                throw UsageError(message: "unknown option \(name)\(hint)", command: command.fullName)
            }
            if spec.value != nil {
                let value: String
                if let inline {
                    value = inline
                } else {
                    guard index < words.count else {
                        throw UsageError(message: "\(name) needs a value (\(spec.value!))", command: command.fullName)
                    }
                    value = words[index]
                    index += 1
                }
                if !spec.repeatable, values[name] != nil {
                    throw UsageError(message: "\(name) given twice", command: command.fullName)
                }
                values[name, default: []].append(value)
                ordered.append((name, value))
            } else {
                guard inline == nil else {
                    throw UsageError(message: "\(name) takes no value", command: command.fullName)
                }
                flags.insert(name)
            }
        }
    }

    func flag(_ name: String) -> Bool { flags.contains(name) }
    func value(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }
}
