import CSQLite

extension Database {
    /// A private, in-memory connection holding a copy of the database file `bytes`
    /// (`sqlite3_deserialize`), so that a database can be changed without a file of its own:
    /// no journal, WAL or temporary file is ever created beside it. A file in WAL mode is
    /// opened as a rollback-journal database (header bytes 18 and 19 read 1), which an
    /// in-memory database requires; `serialized()` writes them back as they were.
    public static func inMemory(copying bytes: [UInt8], what: String) throws -> Database {
        guard bytes.count >= 100, bytes.starts(with: Array("SQLite format 3\0".utf8)) else {
            throw SQLiteError(code: SQLITE_NOTADB, message: "\(what) is not a SQLite database")
        }
        let database = try Database(path: ":memory:")
        try database.distrustSchema(what: what)
        var copy = bytes
        database.journalBytes = (copy[18], copy[19])
        if copy[18] == 2 || copy[19] == 2 {
            copy[18] = 1
            copy[19] = 1
        }
        guard let buffer = sqlite3_malloc64(UInt64(copy.count)) else {
            throw SQLiteError(code: SQLITE_NOMEM, message: "no memory for \(what) (\(copy.count) bytes)")
        }
        copy.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let flags = UInt32(SQLITE_DESERIALIZE_FREEONCLOSE) | UInt32(SQLITE_DESERIALIZE_RESIZEABLE)
        let code = sqlite3_deserialize(
            database.handle, "main", buffer.assumingMemoryBound(to: UInt8.self), Int64(copy.count), Int64(copy.count), flags)
        guard code == SQLITE_OK else { throw database.error(code, sql: nil) }
        // Reading the schema here turns a damaged file into an error naming it, not a later
        // "no such table".
        do {
            _ = try database.query("SELECT count(*) FROM sqlite_schema")
        } catch let error as SQLiteError {
            throw SQLiteError(code: error.code, message: "\(what): \(error.message)")
        }
        return database
    }

    /// Makes the connection run only the SQL it is given, not SQL the file brings: the file
    /// comes from a tenant's source, so its schema is untrusted. Triggers are off (an AFTER
    /// DELETE trigger could copy an erased row into another table), defensive mode forbids
    /// writing the schema or pages directly, double-quoted strings are not taken as string
    /// literals, and `trusted_schema` is off so views and defaults cannot call functions with
    /// side effects. Each setting is read back: one not in force is an error, not a warning.
    func distrustSchema(what: String) throws {
        for (option, value, name) in [
            (SQLITE_DBCONFIG_ENABLE_TRIGGER, Int32(0), "ENABLE_TRIGGER"), (SQLITE_DBCONFIG_DEFENSIVE, 1, "DEFENSIVE"),
            (SQLITE_DBCONFIG_DQS_DML, 0, "DQS_DML"),
        ] where csqlite_db_config_int(handle, option, value) != value {
            throw SQLiteError(code: SQLITE_ERROR, message: "cannot set SQLITE_DBCONFIG_\(name) on the copy of \(what)")
        }
        try execute("PRAGMA trusted_schema = OFF")
        guard try query("PRAGMA trusted_schema").first?.int(0) == 0 else {
            throw SQLiteError(code: SQLITE_ERROR, message: "cannot turn trusted_schema off on the copy of \(what)")
        }
    }

    /// The bytes of the main database as a database file, with the journal mode bytes of the
    /// file it was copied from.
    public func serialized() throws -> [UInt8] {
        var size: sqlite3_int64 = 0
        guard let pointer = sqlite3_serialize(handle, "main", &size, 0) else {
            throw SQLiteError(code: SQLITE_NOMEM, message: "cannot serialize \(path)")
        }
        defer { sqlite3_free(pointer) }
        var bytes = Array(UnsafeBufferPointer(start: pointer, count: Int(size)))
        if let (read, write) = journalBytes, bytes.count >= 100 {
            bytes[18] = read
            bytes[19] = write
        }
        return bytes
    }

    /// Prepares exactly one statement: SQL with anything after its first statement (but
    /// spaces and a final semicolon) is refused, so that one rule cannot smuggle a second.
    public func prepareSingle(_ sql: String) throws -> Statement {
        var statement: OpaquePointer?
        var rest: UnsafePointer<CChar>?
        let code = sql.withCString { text -> Int32 in
            let result = sqlite3_prepare_v2(handle, text, -1, &statement, &rest)
            if result == SQLITE_OK, let rest {
                let tail = String(cString: rest).trimmingCharacters(in: " \t\r\n;")
                if !tail.isEmpty {
                    sqlite3_finalize(statement)
                    statement = nil
                    return SQLITE_MISUSE
                }
            }
            return result
        }
        if code == SQLITE_MISUSE {
            throw SQLiteError(code: code, message: "more than one statement", sql: sql)
        }
        guard code == SQLITE_OK, let statement else {
            sqlite3_finalize(statement)
            throw error(code, sql: sql)
        }
        return Statement(database: self, handle: statement, sql: sql)
    }
}

extension Statement {
    /// How many `?` parameters the statement takes.
    public var parameterCount: Int { Int(sqlite3_bind_parameter_count(handle)) }

    /// Whether the statement leaves the database unchanged (a SELECT).
    public var isReadOnly: Bool { sqlite3_stmt_readonly(handle) != 0 }
}

private extension String {
    func trimmingCharacters(in set: String) -> String {
        let skip = Set(set)
        var slice = Substring(self)
        while let first = slice.first, skip.contains(first) { slice.removeFirst() }
        while let last = slice.last, skip.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
