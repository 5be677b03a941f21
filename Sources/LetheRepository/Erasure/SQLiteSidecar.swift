import LetheStore

/// The files SQLite keeps beside a database `X`, when SQL rules change `X`. A restored `X`
/// lost the rows, but `X-wal` still holds the pages it had when backed up (and a hot
/// `X-journal` the pages from before a change): opening the restored `X` would replay them
/// and bring the erased rows back. Lethe cannot rewrite a log page by page, so it fails
/// closed: a non-empty `X-wal` or `X-journal` in what would be written fails the restore or
/// export before anything is written, naming it. `X-shm` is only a cache of the WAL index,
/// rebuilt on open, so it is left out.
enum SQLiteSidecar {
    static let logs = ["-wal", "-journal"]
    static let cache = "-shm"

    /// Whether the entry at `path` is left out because it is the `-shm` of a database SQL
    /// rules change; throws when it is a log that would bring erased rows back.
    static func leavesOut(_ path: String, node: Node, filter: ErasureFilter) throws -> Bool {
        guard node.kind != .directory else { return false }
        for suffix in logs + [cache] where path.hasSuffix(suffix) {
            let database = String(path.dropLast(suffix.count))
            guard !database.isEmpty, !database.hasSuffix("/"), !filter.erases(database) else { continue }
            let changed = filter.contentRules(for: database).contains { if case .sql = $0.rule { return true } else { return false } }
            guard changed else { continue }
            if suffix == cache { return true }
            if node.kind == .symlink || node.size > 0 {
                throw LetheError.failed(
                    "erasure: \(path) is a SQLite log of \(database), which SQL rules change; replayed, it would bring erased rows back, so nothing is released. "
                        + "Checkpoint the source database (PRAGMA wal_checkpoint(TRUNCATE)) and back up again, or erase \(path) with a --path rule")
            }
        }
        return false
    }
}
