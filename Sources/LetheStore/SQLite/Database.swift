import CSQLite
import Glibc

/// One SQLite connection, closed in `deinit`. A connection belongs to one thread at a time.
///
/// Lethe's catalog opens with WAL journaling (readers never block the writer), a busy
/// timeout (a second process waits instead of failing), foreign keys enforced, and
/// `secure_delete` on, so that rows purged at a tenant's destruction are overwritten in the
/// file rather than left in free pages.
public final class Database {
    let handle: OpaquePointer
    public let path: String
    /// For an in-memory copy of a file: the file's journal mode bytes (header 18 and 19).
    var journalBytes: (UInt8, UInt8)?

    /// Opens (creating if needed) the database at `path`.
    public convenience init(path: String, readOnly: Bool = false) throws {
        try self.init(filename: path, flags: readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, path: path)
    }

    /// Opens the database at `path` read-only through a `file:` URI carrying `parameters`
    /// (sqlite.org/uri.html), such as `immutable=1`; `mode=ro` is always among them.
    public convenience init(readOnly path: String, parameters: [String: String]) throws {
        let query = (["mode": "ro"].merging(parameters) { $1 }).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let uri = "file:" + Database.uriEscaped(path) + "?" + query.joined(separator: "&")
        try self.init(filename: uri, flags: SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, path: path)
    }

    private init(filename: String, flags: Int32, path: String) throws {
        var connection: OpaquePointer?
        let code = sqlite3_open_v2(filename, &connection, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard code == SQLITE_OK, let connection else {
            let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close_v2(connection)
            throw SQLiteError(code: code, message: "\(message): \(path)")
        }
        handle = connection
        self.path = path
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, 30_000)
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that take no bindings (schema, pragmas).
    public func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        guard code == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw SQLiteError(code: code, message: text, sql: sql)
        }
    }

    public func prepare(_ sql: String) throws -> Statement {
        try Statement(database: self, sql: sql)
    }

    /// Prepares, binds and runs one statement.
    public func run(_ sql: String, _ bindings: SQLBindable...) throws {
        try prepare(sql).run(bindings)
    }

    /// Prepares, binds and runs one query, returning every row.
    public func query(_ sql: String, _ bindings: SQLBindable...) throws -> [Row] {
        try prepare(sql).query(bindings)
    }

    /// Rows changed by the last statement.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs `body` in an immediate transaction: committed when `body` returns, rolled back
    /// when it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Applies, in order, every migration not yet recorded in `schema_migrations`, each in its
    /// own transaction.
    public func migrate(_ migrations: [Migration]) throws {
        try execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (datetime('now')))
            """)
        let applied = Set(try query("SELECT id FROM schema_migrations").map { $0.int(0) })
        for migration in migrations where !applied.contains(migration.id) {
            try transaction {
                try execute(migration.sql)
                try run("INSERT INTO schema_migrations (id, name) VALUES (?, ?)", migration.id, migration.name)
            }
        }
    }

    /// Copies this database, consistently, to a new file at `path` with SQLite's online
    /// backup API: the copy is one transaction-consistent state even while other connections
    /// (other processes) write to the source.
    public func backup(to path: String) throws {
        let destination = try Database(path: path)
        guard let backup = sqlite3_backup_init(destination.handle, "main", handle, "main") else {
            throw destination.error(sqlite3_errcode(destination.handle), sql: nil)
        }
        var code: Int32
        repeat {
            // -1 copies every page in one step, under one read transaction on the source.
            code = sqlite3_backup_step(backup, -1)
            if code == SQLITE_BUSY || code == SQLITE_LOCKED { usleep(20_000) }
        } while code == SQLITE_OK || code == SQLITE_BUSY || code == SQLITE_LOCKED
        let finish = sqlite3_backup_finish(backup)
        guard code == SQLITE_DONE, finish == SQLITE_OK else {
            throw SQLiteError(code: code == SQLITE_DONE ? finish : code, message: "online backup of \(self.path) failed")
        }
    }

    /// `path` as the path part of a `file:` URI: every byte but unreserved characters and "/"
    /// percent-encoded, so that "?", "#" and "%" in a file name stay part of it.
    static func uriEscaped(_ path: String) -> String {
        var out = ""
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.append(Character(Unicode.Scalar(byte)))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    func error(_ code: Int32, sql: String?) -> SQLiteError {
        SQLiteError(code: code, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }
}

/// A numbered, named schema change.
public struct Migration: Sendable {
    public let id: Int
    public let name: String
    public let sql: String

    public init(id: Int, name: String, sql: String) {
        self.id = id
        self.name = name
        self.sql = sql
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
