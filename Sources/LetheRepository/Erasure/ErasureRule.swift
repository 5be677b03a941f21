import LetheStore

/// One thing to remove for an erasure request, as the DPO gave it. Values (SQL parameters,
/// CSV and JSON values) are personal data: they live only in the sealed ledger, and
/// `redacted` is what may be shown, logged or certified.
public enum ErasureRule: Codable, Equatable, Sendable {
    /// One DELETE or UPDATE, run with `parameters` bound to its `?` in order, on the
    /// tenant's `sqlite:` sources, or on the SQLite files that `files` selects.
    case sql(statement: String, parameters: [String], files: String?)
    /// Every file, link or directory (with what it holds) whose path the glob matches.
    case path(glob: String)
    /// The rows of the CSV files `files` selects whose column `column` is exactly `value`.
    case csvRows(files: String, column: String, value: String)
    /// The records of the JSON (array of objects) or JSON Lines files `files` selects whose
    /// field `field` is exactly `value`.
    case jsonRecords(files: String, field: String, value: String)

    /// What is wrong with the rule as given, or nil. SQL must be one DELETE or UPDATE with
    /// one `?` per parameter and no quoted literal: a value in the statement would be spliced
    /// into the ledger's redacted form, the audit log and the certificate.
    public var problem: String? {
        switch self {
        case .sql(let statement, let parameters, let files):
            let words = statement.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" })
            guard let first = words.first?.uppercased(), first == "DELETE" || first == "UPDATE" else {
                return "--sql must be one DELETE or UPDATE statement, not \"\(statement.prefix(40))\""
            }
            guard !statement.contains("'") else {
                return "--sql must not hold quoted values: write ? and give each value with --param"
            }
            // "Alice Smith" is a string in other SQL dialects; here it would be logged as it
            // stands, and Lethe's SQLite (double-quoted strings off) reads it as a column name.
            guard !statement.contains("\"") else {
                return "--sql must not hold double-quoted text: write names bare or in [brackets], and each value as ? with --param"
            }
            let body = statement.trimmingTrailing(" \t\r\n;")
            guard !body.contains(";") else { return "--sql must be a single statement" }
            guard !body.contains(":"), !body.contains("@"), !body.contains("$") else {
                return "--sql takes positional ? parameters only"
            }
            let placeholders = body.filter { $0 == "?" }.count
            guard placeholders == parameters.count else {
                return "--sql has \(placeholders) ? but \(parameters.count) --param \(parameters.count == 1 ? "value" : "values")"
            }
            if let files, let problem = PathGlob.problem(files) { return "--file: \(problem)" }
            return nil
        case .path(let glob):
            return PathGlob.problem(glob).map { "--path: \($0)" }
        case .csvRows(let files, let column, _):
            if column.isEmpty { return "--column must not be empty" }
            return PathGlob.problem(files).map { "--csv: \($0)" }
        case .jsonRecords(let files, let field, _):
            if field.isEmpty { return "--field must not be empty" }
            return PathGlob.problem(files).map { "--json: \($0)" }
        }
    }

    /// The rule without personal data: SQL with its `?` and the number of bound values, the
    /// file globs, columns and fields, but never a value nor a path glob (which names the
    /// person's own files).
    public var redacted: String {
        switch self {
        case .sql(let statement, let parameters, let files):
            let values = parameters.count == 1 ? "1 bound value" : "\(parameters.count) bound values"
            return "sql \(statement.trimmingTrailing(" \t\r\n;")) (\(values)) on \(files.map { "files \($0)" } ?? "the sqlite: sources")"
        case .path:
            return "path (glob redacted)"
        case .csvRows(let files, let column, _):
            return "csv rows of \(files) where \(column) = (redacted)"
        case .jsonRecords(let files, let field, _):
            return "json records of \(files) where \(field) = (redacted)"
        }
    }

    /// Whether the rule changes a file's content (rather than leaving a path out).
    var changesContent: Bool {
        if case .path = self { return false }
        return true
    }
}

extension String {
    func trimmingTrailing(_ characters: String) -> String {
        var slice = Substring(self)
        while let last = slice.last, characters.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
