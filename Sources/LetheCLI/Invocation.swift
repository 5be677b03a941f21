import Foundation
import LetheCore

/// Everything a command's `run` receives: its parsed arguments, the home it works on, and
/// the console.
struct Invocation {
    let command: CommandSpec
    let arguments: ParsedArguments
    let home: Home
    let console: Console
    let environment: [String: String]

    var json: Bool { arguments.flag("--json") }

    /// The positional arguments, checked against how many the command takes.
    func positionals(_ range: ClosedRange<Int>, _ names: String) throws -> [String] {
        let given = arguments.positionals
        guard range.contains(given.count) else {
            let message = given.count < range.lowerBound ? "missing \(names)" : "unexpected argument \(given[range.upperBound])"
            throw UsageError(message: message, command: command.fullName)
        }
        return given
    }

    func usageError(_ message: String) -> UsageError {
        UsageError(message: message, command: command.fullName)
    }

    /// An integer option's value, or `defaultValue` when absent.
    func integer(_ name: String, default defaultValue: Int? = nil, range: ClosedRange<Int> = 0...Int.max) throws -> Int? {
        guard let text = arguments.value(name) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw usageError("\(name) takes a whole number from \(range.lowerBound) to \(range.upperBound), not \"\(text)\"")
        }
        return value
    }
}
