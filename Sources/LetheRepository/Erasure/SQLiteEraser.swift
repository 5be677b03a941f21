import LetheStore

/// Applies SQL rules to a copy of a SQLite database file, in memory: the statements in
/// ledger order inside one transaction, with `secure_delete` on, then `VACUUM`, so that the
/// file handed out holds no free page with an erased row in it. The database is never a file
/// while it still holds the rows (`Database.inMemory`), so nothing is left to clean up.
enum SQLiteEraser {
    struct Statement: Sendable {
        let sql: String
        let parameters: [String]
    }

    /// The database file with `statements` applied, and how many rows they changed. A
    /// statement that no longer fits the database (a table renamed, a column dropped) fails
    /// the whole file, naming it, so that no file that should have lost rows is released.
    static func apply(_ statements: [Statement], to bytes: [UInt8], path: String) throws -> (bytes: [UInt8], changed: Int) {
        let database: Database
        do {
            database = try Database.inMemory(copying: bytes, what: path)
        } catch let error as SQLiteError {
            throw LetheError.failed("erasure: \(path) cannot be opened as a SQLite database (\(error.message)); it is not released")
        }
        try database.execute("PRAGMA secure_delete = ON")
        var changed = 0
        try database.transaction {
            for statement in statements {
                do {
                    let prepared = try database.prepareSingle(statement.sql)
                    guard !prepared.isReadOnly else { throw SQLiteError(code: 1, message: "the statement changes nothing", sql: statement.sql) }
                    try prepared.run(statement.parameters)
                    changed += database.changes
                } catch let error as SQLiteError {
                    throw LetheError.failed(
                        "erasure: rule \"\(statement.sql)\" no longer applies to \(path) (\(error.message)); the file is not released. "
                            + "Record a rule that fits the database with `lethe erase request`")
                }
            }
        }
        try database.execute("VACUUM")
        return (try database.serialized(), changed)
    }
}
