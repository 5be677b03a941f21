import CSQLite

/// A prepared statement, owned and finalized in `deinit`. Prepare once, then `run` or
/// `query` it many times with different bindings; values are always bound, never spliced
/// into SQL.
public final class Statement {
    let handle: OpaquePointer
    let sql: String
    private unowned let database: Database

    init(database: Database, sql: String) throws {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v2(database.handle, sql, -1, &statement, nil)
        guard code == SQLITE_OK, let statement else { throw database.error(code, sql: sql) }
        self.handle = statement
        self.sql = sql
        self.database = database
    }

    /// Adopts a statement prepared by the database (`prepareSingle`).
    init(database: Database, handle: OpaquePointer, sql: String) {
        self.handle = handle
        self.sql = sql
        self.database = database
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Executes with `bindings`, discarding any rows.
    public func run(_ bindings: [SQLBindable]) throws {
        try bind(bindings)
        defer { sqlite3_reset(handle) }
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return }
            if code != SQLITE_ROW { throw database.error(code, sql: sql) }
        }
    }

    public func run(_ bindings: SQLBindable...) throws {
        try run(bindings)
    }

    /// Executes with `bindings` and returns every row.
    public func query(_ bindings: [SQLBindable]) throws -> [Row] {
        try bind(bindings)
        defer { sqlite3_reset(handle) }
        var rows: [Row] = []
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return rows }
            guard code == SQLITE_ROW else { throw database.error(code, sql: sql) }
            rows.append(currentRow())
        }
    }

    public func query(_ bindings: SQLBindable...) throws -> [Row] {
        try query(bindings)
    }

    private func bind(_ bindings: [SQLBindable]) throws {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        guard bindings.count == Int(sqlite3_bind_parameter_count(handle)) else {
            throw SQLiteError(
                code: SQLITE_RANGE,
                message: "\(bindings.count) values for \(sqlite3_bind_parameter_count(handle)) parameters", sql: sql)
        }
        for (offset, value) in bindings.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value.sqlValue {
            case .null:
                code = sqlite3_bind_null(handle, index)
            case .integer(let number):
                code = sqlite3_bind_int64(handle, index, number)
            case .real(let number):
                code = sqlite3_bind_double(handle, index, number)
            case .text(let text):
                code = sqlite3_bind_text(handle, index, text, -1, csqlite_transient())
            case .blob(let bytes):
                code = bytes.withUnsafeBytes { raw in
                    sqlite3_bind_blob(handle, index, raw.baseAddress, Int32(raw.count), csqlite_transient())
                }
            }
            guard code == SQLITE_OK else { throw database.error(code, sql: sql) }
        }
    }

    private func currentRow() -> Row {
        let count = sqlite3_column_count(handle)
        var values: [SQLValue] = []
        values.reserveCapacity(Int(count))
        for column in 0..<count {
            switch sqlite3_column_type(handle, column) {
            case SQLITE_INTEGER:
                values.append(.integer(sqlite3_column_int64(handle, column)))
            case SQLITE_FLOAT:
                values.append(.real(sqlite3_column_double(handle, column)))
            case SQLITE_TEXT:
                values.append(.text(String(cString: sqlite3_column_text(handle, column))))
            case SQLITE_BLOB:
                let length = Int(sqlite3_column_bytes(handle, column))
                if length == 0 {
                    values.append(.blob([]))
                } else {
                    let pointer = sqlite3_column_blob(handle, column)!
                    values.append(.blob(Array(UnsafeRawBufferPointer(start: pointer, count: length))))
                }
            default:
                values.append(.null)
            }
        }
        return Row(values: values)
    }
}
