import CLinux
import Foundation
import Glibc
import LetheCore

/// The `lethe` command: finds the verb, parses its options, runs it, and turns whatever it
/// throws into one line on standard error and a documented exit code.
public enum LetheCLI {
    public static let version = "0.1.0"

    public static func main(_ argv: [String] = CommandLine.arguments) -> Int32 {
        hardenProcess()
        let console = Console()
        let words = movingGlobalOptions(Array(argv.dropFirst()))
        let commands = Commands.all
        guard let (command, rest) = match(words, in: commands) else {
            return topLevel(words, commands: commands, console: console)
        }
        do {
            let arguments = try ParsedArguments(rest, for: command)
            if arguments.flag("--help") {
                console.print(command.help)
                return ExitCode.success.rawValue
            }
            let invocation = Invocation(
                command: command, arguments: arguments,
                home: Home.resolve(option: arguments.value("--home")),
                console: console, environment: ProcessInfo.processInfo.environment)
            return try command.run(invocation).rawValue
        } catch {
            console.error("lethe: \(error)")
            return ExitCode.for(error).rawValue
        }
    }

    /// Global options may come before the verb as well as after it (`lethe --home X tenant
    /// list`, as in git and restic): those that stand before it are moved behind it, where
    /// every command parses them.
    static func movingGlobalOptions(_ words: [String]) -> [String] {
        var leading: [String] = []
        var rest = words[...]
        while let word = rest.first, word.hasPrefix("--home") {
            leading.append(word)
            rest = rest.dropFirst()
            if word == "--home", let value = rest.first {
                leading.append(value)
                rest = rest.dropFirst()
            }
        }
        return Array(rest) + leading
    }

    /// The longest run of leading words that names a command.
    private static func match(_ words: [String], in commands: [CommandSpec]) -> (CommandSpec, [String])? {
        var best: CommandSpec?
        for command in commands where words.starts(with: command.words) {
            if command.words.count > (best?.words.count ?? 0) { best = command }
        }
        guard let best else { return nil }
        return (best, Array(words.dropFirst(best.words.count)))
    }

    /// `lethe`, `lethe --help`, `lethe --version`, a group alone (`lethe tenant`), or a typo.
    private static func topLevel(_ words: [String], commands: [CommandSpec], console: Console) -> Int32 {
        let asksHelp = words.contains("--help") || words.contains("-h") || words.first == "help"
        // The value of a --home given with the verb missing is not a word of the command.
        let values = Set(zip(words, words.dropFirst()).filter { $0.0 == "--home" }.map { $0.1 })
        let nonOptions = words.filter { !$0.hasPrefix("-") && $0 != "help" && !values.contains($0) }
        if words.contains("--version") {
            console.print("lethe \(version)")
            return ExitCode.success.rawValue
        }
        // A word that names no command is the mistake to report, before any option after it.
        if let first = nonOptions.first {
            let verbs = Set(commands.map { $0.words.joined(separator: " ") } + commands.map { $0.words[0] })
            let given = nonOptions.prefix(2).joined(separator: " ")
            if !commands.contains(where: { $0.words.first == first }) || (nonOptions.count > 1 && !verbs.contains(given)) {
                let group = commands.filter { $0.words.first == first }.map { $0.words.joined(separator: " ") }
                let wrong = group.isEmpty ? first : given
                // A known group with a misspelt verb (`tenant shwo`) is meant as one of the group's verbs.
                let hint = Suggestion.nearest(Array(nonOptions.prefix(2)), among: group.isEmpty ? verbs : Set(group))
                    .map { " (did you mean `lethe \($0)`?)" }
                console.error("lethe: unknown command \"\(wrong)\"\(hint ?? " (see `lethe --help`)")")
                return ExitCode.usage.rawValue
            }
        }
        let known: Set<String> = ["--help", "-h", "--home"]
        if let unknown = words.first(where: { $0.hasPrefix("-") && !known.contains(String($0.split(separator: "=")[0])) }) {
            console.error("lethe: unknown option \(unknown) (see `lethe --help`)")
            return ExitCode.usage.rawValue
        }
        if let group = nonOptions.first {
            let members = commands.filter { $0.words.first == group }
            let text = listing(members, header: "Usage: lethe \(group) COMMAND [OPTIONS]")
            // Asked for, the listing is the answer; given as a command, it is a usage error.
            if asksHelp { console.print(text) } else { console.error(text) }
            return asksHelp ? ExitCode.success.rawValue : ExitCode.usage.rawValue
        }
        let header = "lethe \(version): per-tenant encrypted backups with audited, provable destruction.\n\n"
            + "Usage: lethe COMMAND [OPTIONS]"
        console.print(listing(commands, header: header))
        return asksHelp ? ExitCode.success.rawValue : ExitCode.usage.rawValue
    }

    /// Levenshtein distance, to suggest the verb (or option) a typo was meant to be.
    enum Suggestion {
        /// The candidate nearest to the first words given, compared word count for word count
        /// (`tenat list` is nearest `tenant list`, `bakup` nearest `backup`), if it is near
        /// enough to be what was meant; on a tie, the longer verb, which says more.
        static func nearest(_ words: [String], among candidates: some Sequence<String>) -> String? {
            var best: (candidate: String, distance: Int)?
            for candidate in candidates {
                let count = candidate.split(separator: " ").count
                guard count <= words.count || count == 1 else { continue }
                let given = words.prefix(count).joined(separator: " ")
                let d = distance(given, candidate)
                guard d <= max(2, given.count / 3) else { continue }
                if best == nil || d < best!.distance || (d == best!.distance && candidate.count > best!.candidate.count) {
                    best = (candidate, d)
                }
            }
            return best?.candidate
        }

        static func distance(_ a: String, _ b: String) -> Int {
            let a = Array(a), b = Array(b)
            var previous = Array(0...b.count)
            for (i, x) in a.enumerated() {
                var current = [i + 1]
                for (j, y) in b.enumerated() {
                    current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
                }
                previous = current
            }
            return previous[b.count]
        }
    }

    private static func listing(_ commands: [CommandSpec], header: String) -> String {
        let width = (commands.map { $0.words.joined(separator: " ").count }.max() ?? 0) + 2
        var text = header + "\n\nCommands:\n"
        for command in commands {
            let name = command.words.joined(separator: " ")
            text += "  \(name)\(String(repeating: " ", count: width - name.count))\(command.summary)\n"
        }
        text += "\nEvery command takes --home DIR (default: $LETHE_HOME, else ~/.lethe) and --help;\n"
        text += "`lethe COMMAND --help` describes one command.\n"
        text += "Exit codes: 0 success, 1 operation failed, 2 usage or configuration error,\n"
        text += "3 integrity violation found, 4 refused by policy.\n"
        return text
    }

    /// Key material lives in this process's memory: keep it out of core dumps and away from
    /// other processes of the same user (ptrace, /proc/PID/mem), before anything is read.
    /// And a child that closes its end of a pipe early (a notification command that ignores
    /// its input, a `head` after `lethe … |`) must turn into a write error Lethe handles, not a
    /// SIGPIPE that kills it mid-operation.
    private static func hardenProcess() {
        var limit = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit)
        _ = clinux_set_not_dumpable()
        _ = signal(SIGPIPE, SIG_IGN)
    }
}
