import LetheStore

/// Where a tenant's data comes from, as given to `lethe tenant add --source`:
///
///     dir:PATH            a directory tree; its entries become the snapshot's root
///     sqlite:PATH         a SQLite database, copied consistently with the online backup API
///     cmd:COMMAND         the standard output of `/bin/sh -c COMMAND` (pg_dump and the like)
///     NAME=KIND:ARG       the same, placed in the snapshot root under NAME
///
/// A bare existing path is taken as `dir:`. A database lands at the root under its file name,
/// a command's output as `command-output`, unless NAME says otherwise.
public struct TenantSource: Codable, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Codable, Sendable {
        case directory = "dir"
        case sqlite
        case command = "cmd"
    }

    public var kind: Kind
    /// The path, or the command line.
    public var location: String
    /// Where the source goes in the snapshot's root; nil puts a directory's entries at the root.
    public var name: String?

    public init(kind: Kind, location: String, name: String? = nil) {
        self.kind = kind
        self.location = location
        self.name = name
    }

    public init(spec: String) throws {
        var rest = Substring(spec)
        var name: String?
        if let colon = rest.firstIndex(of: ":"), let equals = rest[..<colon].firstIndex(of: "=") {
            name = String(rest[..<equals])
            rest = rest[rest.index(after: equals)...]
        }
        if let colon = rest.firstIndex(of: ":"), let kind = Kind(rawValue: String(rest[..<colon])) {
            self.kind = kind
            location = String(rest[rest.index(after: colon)...])
        } else if rest.hasPrefix("/") || rest.hasPrefix(".") {
            kind = .directory
            location = String(rest)
        } else {
            throw LetheError.usage("source \"\(spec)\" is not KIND:ARG with KIND dir, sqlite or cmd")
        }
        guard !location.isEmpty else { throw LetheError.usage("source \"\(spec)\" names no path or command") }
        if kind != .command { location = FileSystem.absolute(location) }
        if let name {
            guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
                throw LetheError.usage("source name \"\(name)\" must be one non-empty path component")
            }
        }
        self.name = name
    }

    /// The name of this source's entry in the snapshot root, or nil for a directory whose
    /// entries are the root.
    public var entryName: String? {
        switch kind {
        case .directory: return name
        case .sqlite: return name ?? FileSystem.basename(of: location)
        case .command: return name ?? "command-output"
        }
    }

    public var description: String {
        (name.map { "\($0)=" } ?? "") + "\(kind.rawValue):\(location)"
    }
}
