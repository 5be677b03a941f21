import Glibc
import LetheStore

/// A path pattern over a snapshot's paths (relative to its root, `/`-separated): `*`, `?`
/// and `[…]` match within one component (fnmatch), `**` matches any number of components,
/// none included. A leading dot needs no explicit match: erasing errs on the side of
/// matching. So `mail/alice@example.com/**` matches that directory and everything in it.
public struct PathGlob: Equatable, Sendable {
    let components: [String]

    public init(_ pattern: String) throws {
        if let problem = PathGlob.problem(pattern) { throw LetheError.usage(problem) }
        components = PathGlob.split(pattern)
    }

    /// What is wrong with `pattern`, or nil.
    public static func problem(_ pattern: String) -> String? {
        let parts = split(pattern)
        guard !parts.isEmpty else { return "the glob \"\(pattern)\" is empty" }
        guard !pattern.hasPrefix("/") else { return "the glob \"\(pattern)\" must be relative to the snapshot's root (no leading /)" }
        guard !parts.contains(".."), !parts.contains(".") else { return "the glob \"\(pattern)\" must not hold . or .." }
        return nil
    }

    private static func split(_ pattern: String) -> [String] {
        pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    /// Whether `path` (`docs/a.txt`) matches.
    public func matches(_ path: String) -> Bool {
        PathGlob.match(components[...], path.split(separator: "/").map(String.init)[...])
    }

    private static func match(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let head = pattern.first else { return path.isEmpty }
        if head == "**" {
            let rest = pattern.dropFirst()
            var remaining = path
            while true {
                if match(rest, remaining) { return true }
                guard !remaining.isEmpty else { return false }
                remaining = remaining.dropFirst()
            }
        }
        guard let name = path.first, fnmatch(head, name, 0) == 0 else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }
}

