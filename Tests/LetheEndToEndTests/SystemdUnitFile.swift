import Foundation

/// The settings of a systemd unit file that decide what the service may touch, read from the
/// file itself so that a test of the shipped unit fails when the unit is wrong.
struct SystemdUnitFile {
    /// Every `KEY=VALUE` of the [Service] section, in order; repeated keys keep every value.
    let service: [(key: String, value: String)]

    init(path: String) throws {
        var section = ""
        var settings: [(String, String)] = []
        for raw in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") { section = line; continue }
            guard section == "[Service]", let equals = line.firstIndex(of: "=") else { continue }
            settings.append((String(line[..<equals]), String(line[line.index(after: equals)...])))
        }
        service = settings
    }

    func values(_ key: String) -> [String] { service.filter { $0.key == key }.map(\.value) }

    /// `ReadWritePaths=` and `ReadOnlyPaths=` as binds, "-" marking the optional ones.
    var binds: [MountNamespace.Bind] {
        func paths(_ key: String, writable: Bool) -> [MountNamespace.Bind] {
            values(key).flatMap { $0.split(separator: " ") }.map { word in
                let optional = word.hasPrefix("-")
                return MountNamespace.Bind(path: String(optional ? word.dropFirst() : word), writable: writable, optional: optional)
            }
        }
        return paths("ReadWritePaths", writable: true) + paths("ReadOnlyPaths", writable: false)
    }

    /// `Environment=` assignments.
    var environment: [String: String] {
        var result: [String: String] = [:]
        for assignment in values("Environment").flatMap({ $0.split(separator: " ") }) {
            let parts = assignment.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { result[String(parts[0])] = String(parts[1]) }
        }
        return result
    }

    /// `ExecStart=`'s program and arguments (this unit's line has no quoting).
    var execStart: [String] { values("ExecStart").last.map { $0.split(separator: " ").map(String.init) } ?? [] }
}
