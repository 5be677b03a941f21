import Foundation
import Glibc
import LetheRepository
import LetheStore

/// The SQLite catalog: an index of the object store that answers listings without keys and
/// without reading the store. It is never the truth: every fact in it is recomputed from the
/// store by `lethe index rebuild`, and `sync` repairs it after a crash.
///
/// One connection guarded by a lock, so backup workers can record results from several
/// threads; SQLite serializes the writers of several processes (WAL, busy timeout).
public final class Catalog: @unchecked Sendable {
    let database: Database
    private let lock = NSLock()

    public init(path: String) throws {
        // The catalog names tenants and their files: readable by the service's user only.
        // SQLite gives its -wal and -shm files the database file's permissions.
        let file = try OwnedFile(path: path, flags: O_RDWR | O_CREAT | O_NOFOLLOW, mode: 0o600)
        guard fchmod(file.descriptor, 0o600) == 0 else { throw SystemError("set permissions of", path) }
        try file.close()
        do {
            database = try Database(path: path)
            try database.execute("""
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = FULL;
                PRAGMA foreign_keys = ON;
                PRAGMA secure_delete = ON;
                """)
            try database.migrate(CatalogSchema.migrations)
        } catch let error as SQLiteError {
            throw CatalogError(path: path, error: error)
        }
    }

    /// Runs `body` with the connection, alone, in one transaction.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try lock.withLock { try database.transaction { try body(database) } }
        } catch let error as SQLiteError {
            throw CatalogError(path: database.path, error: error)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try lock.withLock { try body(database) }
        } catch let error as SQLiteError {
            throw CatalogError(path: database.path, error: error)
        }
    }

    /// Throws unless SQLite finds the file sound (`PRAGMA quick_check`): checked before a
    /// destruction's first irreversible step, so that its purge cannot fail half-way.
    public func requireSound() throws {
        let answer = try read { db in try db.query("PRAGMA quick_check").map { $0.string(0) } }
        guard answer == ["ok"] else {
            throw LetheError.integrity(
                "the catalog \(database.path) is damaged (\(answer.first ?? "no answer")); `lethe index rebuild` recreates it")
        }
    }

    /// True when the catalog indexes no tenant and no destroyed tenant.
    public var isEmpty: Bool {
        get throws {
            try read { db in
                try db.query("SELECT (SELECT count(*) FROM tenants) + (SELECT count(*) FROM tombstones)")[0].int(0) == 0
            }
        }
    }

    // MARK: Tenants

    public func upsert(_ record: TenantRecord) throws {
        try upsert([record])
    }

    /// Indexes `records` in one transaction (a bulk import commits once, not per tenant).
    public func upsert(_ records: [TenantRecord]) throws {
        let encoder = JSONEncoder()
        let rows = try records.map { ($0, String(decoding: try encoder.encode($0), as: UTF8.self)) }
        try write { db in
            for (record, json) in rows { try db.run("""
                INSERT INTO tenants (id, name, state, created, offboarded_at, window_days, hold_reason, record)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET name = excluded.name, state = excluded.state,
                    offboarded_at = excluded.offboarded_at, window_days = excluded.window_days,
                    hold_reason = excluded.hold_reason, record = excluded.record
                """, record.id.rawValue, record.name, record.state.rawValue, record.created, record.offboardedAt,
                record.restoreWindowDays, record.legalHold?.reason, json)
            }
        }
    }

    public func tenants() throws -> [TenantRecord] {
        try read { db in
            try db.query("SELECT record FROM tenants ORDER BY id").map { row in
                try JSONDecoder().decode(TenantRecord.self, from: Data(row.string(0).utf8))
            }
        }
    }

    public func tenant(_ id: TenantID) throws -> TenantRecord? {
        try read { db in
            try db.query("SELECT record FROM tenants WHERE id = ?", id.rawValue).first.map { row in
                try JSONDecoder().decode(TenantRecord.self, from: Data(row.string(0).utf8))
            }
        }
    }

    // MARK: Tombstones

    public struct Tombstone: Equatable, Sendable {
        public let tenant: TenantID
        public let report: String
        public let destroyedAt: String
    }

    public func tombstone(_ tenant: TenantID) throws -> Tombstone? {
        try read { db in
            try db.query("SELECT report, destroyed_at FROM tombstones WHERE tenant = ?", tenant.rawValue).first.map {
                Tombstone(tenant: tenant, report: $0.string(0), destroyedAt: $0.string(1))
            }
        }
    }

    public func addTombstone(_ tombstone: Tombstone) throws {
        try write { db in
            try db.run("INSERT OR REPLACE INTO tombstones (tenant, report, destroyed_at) VALUES (?, ?, ?)",
                       tombstone.tenant.rawValue, tombstone.report, tombstone.destroyedAt)
        }
    }

    // MARK: Reports

    public struct ReportRow: Equatable, Sendable, Codable {
        public let id: String
        public let tenant: String
        public let request: String
        public let finished: String
        public let sha256: String
    }

    public func addReport(_ row: ReportRow) throws {
        try write { db in
            try db.run("INSERT OR REPLACE INTO reports (id, tenant, request, finished, sha256) VALUES (?, ?, ?, ?, ?)",
                       row.id, row.tenant, row.request, row.finished, row.sha256)
        }
    }

    public func reports() throws -> [ReportRow] {
        try read { db in
            try db.query("SELECT id, tenant, request, finished, sha256 FROM reports ORDER BY finished, id").map {
                ReportRow(id: $0.string(0), tenant: $0.string(1), request: $0.string(2), finished: $0.string(3), sha256: $0.string(4))
            }
        }
    }

    // MARK: Snapshots

    public struct SnapshotRow: Equatable, Sendable, Codable {
        public let tenant: String
        public let id: String
        public let time: String
        public let host: String
        public let files: Int
        public let bytes: Int
        public let tree: String
        public let parent: String?
        public let summary: BackupSummary
    }

    private static let snapshotColumns = "tenant, id, time, host, files, bytes, tree, parent, summary"

    private static func snapshotRow(_ row: Row) throws -> SnapshotRow {
        SnapshotRow(
            tenant: row.string(0), id: row.string(1), time: row.string(2), host: row.string(3), files: row.int(4),
            bytes: row.int(5), tree: BlobID(bytes: row.blob(6)).hex, parent: row.optionalString(7),
            summary: try JSONDecoder().decode(BackupSummary.self, from: Data(row.string(8).utf8)))
    }

    /// Snapshots, oldest first, of one tenant or of all.
    public func snapshots(of tenant: TenantID?) throws -> [SnapshotRow] {
        try read { db in
            let rows = try tenant.map {
                try db.query("SELECT \(Catalog.snapshotColumns) FROM snapshots WHERE tenant = ? ORDER BY time, id", $0.rawValue)
            } ?? db.query("SELECT \(Catalog.snapshotColumns) FROM snapshots ORDER BY tenant, time, id")
            return try rows.map(Catalog.snapshotRow)
        }
    }

    /// Each tenant's latest snapshot (its time and size), by tenant id: one row per tenant from
    /// the (tenant, time) index, so that listing tenants or ordering a night's backups does not
    /// read every snapshot's summary. (SQLite takes the bare column `bytes` from the row that
    /// holds the maximum.)
    public func latestSnapshots() throws -> [String: (time: String, bytes: Int)] {
        try read { db in
            Dictionary(try db.query("SELECT tenant, max(time), bytes FROM snapshots GROUP BY tenant").map { ($0.string(0), (time: $0.string(1), bytes: $0.int(2))) },
                       uniquingKeysWith: { a, _ in a })
        }
    }

    /// The snapshots whose id starts with `prefix` (hex), of `tenant` if given.
    public func snapshots(matching prefix: String, tenant: TenantID?) throws -> [SnapshotRow] {
        let pattern = prefix.lowercased().filter { $0.isHexDigit } + "%"
        return try read { db in
            let rows = try tenant.map {
                try db.query("SELECT \(Catalog.snapshotColumns) FROM snapshots WHERE tenant = ? AND id LIKE ?", $0.rawValue, pattern)
            } ?? db.query("SELECT \(Catalog.snapshotColumns) FROM snapshots WHERE id LIKE ?", pattern)
            return try rows.map(Catalog.snapshotRow)
        }
    }

    func insertSnapshot(_ db: Database, tenant: TenantID, id: SnapshotID, snapshot: Snapshot) throws {
        let summary = String(decoding: try JSONEncoder().encode(snapshot.summary), as: UTF8.self)
        try db.run("""
            INSERT OR REPLACE INTO snapshots (tenant, id, time, tree, parent, host, files, bytes, summary)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, tenant.rawValue, id.hex, snapshot.time, snapshot.treeID!.bytes, snapshot.parent, snapshot.host,
            snapshot.summary.files, snapshot.summary.bytesTotal, summary)
    }

    public func removeSnapshot(tenant: TenantID, id: SnapshotID) throws {
        try write { db in try db.run("DELETE FROM snapshots WHERE tenant = ? AND id = ?", tenant.rawValue, id.hex) }
    }

    // MARK: Trees (file listings)

    public struct EntryRow: Equatable, Sendable, Encodable {
        public let name: String
        public let kind: String
        public let size: Int
        public let mode: Int
        /// Seconds since 1970.
        public let mtime: Int
        public let subtree: String?
        public let target: String?

        private enum Key: String, CodingKey { case name, kind, size, mode, mtime, subtree, target }

        /// As every time in Lethe's JSON, `mtime` is ISO 8601; `mode` is the permission bits
        /// in octal as `chmod` takes them ("0644"), not a decimal 420 nobody reads.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(name, forKey: .name)
            try c.encode(kind, forKey: .kind)
            try c.encode(size, forKey: .size)
            try c.encode(EntryRow.octal(mode), forKey: .mode)
            try c.encode(Timestamp.format(Date(timeIntervalSince1970: TimeInterval(mtime))), forKey: .mtime)
            try c.encodeIfPresent(subtree, forKey: .subtree)
            try c.encodeIfPresent(target, forKey: .target)
        }

        /// `0644`, `0755`, `04755`: at least four octal digits.
        public static func octal(_ mode: Int) -> String {
            let digits = String(mode & 0o7777, radix: 8)
            return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        }
    }

    /// The listing of a tree, or nil when the catalog does not have the tree.
    public func entries(tenant: TenantID, tree: BlobID) throws -> [EntryRow]? {
        try read { db in
            guard try !db.query("SELECT 1 FROM trees WHERE tenant = ? AND id = ?", tenant.rawValue, tree.bytes).isEmpty else {
                return nil
            }
            return try db.query("""
                SELECT name, kind, size, mode, mtime, subtree, target FROM tree_entries
                WHERE tenant = ? AND tree = ? ORDER BY name
                """, tenant.rawValue, tree.bytes).map { row in
                let kind = Node.Kind(rawValue: UInt8(row.int(1))) ?? .file
                let subtree: String? = row.values[5] == .null ? nil : BlobID(bytes: row.blob(5)).hex
                return EntryRow(
                    name: row.string(0), kind: "\(kind)", size: row.int(2), mode: row.int(3), mtime: row.int(4),
                    subtree: subtree, target: row.optionalString(6))
            }
        }
    }

    func insertTrees(_ db: Database, tenant: TenantID, trees: [BlobID: Tree]) throws {
        let tree = try db.prepare("INSERT OR IGNORE INTO trees (tenant, id) VALUES (?, ?)")
        let entry = try db.prepare("""
            INSERT OR IGNORE INTO tree_entries (tenant, tree, name, kind, size, mode, mtime, subtree, target)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for (id, contents) in trees {
            try tree.run(tenant.rawValue, id.bytes)
            for node in contents.nodes {
                try entry.run(
                    tenant.rawValue, id.bytes, node.name, Int(node.kind.rawValue), node.size, Int(node.mode),
                    Int(node.modified.seconds), node.subtree.map { SQLValue.blob($0.bytes) } ?? .null, node.target)
            }
        }
    }

    func hasTree(_ db: Database, tenant: TenantID, id: BlobID) throws -> Bool {
        try !db.query("SELECT 1 FROM trees WHERE tenant = ? AND id = ?", tenant.rawValue, id.bytes).isEmpty
    }

    // MARK: Packs and blobs

    func insertIndex(_ db: Database, tenant: TenantID, id: IndexID, contents: IndexContents) throws {
        try db.run("INSERT OR IGNORE INTO index_files (tenant, id) VALUES (?, ?)", tenant.rawValue, id.hex)
        try insertPacks(db, tenant: tenant, contents: contents)
    }

    private func insertPacks(_ db: Database, tenant: TenantID, contents: IndexContents) throws {
        let pack = try db.prepare("INSERT OR REPLACE INTO packs (tenant, id, size) VALUES (?, ?, ?)")
        let blob = try db.prepare("""
            INSERT OR REPLACE INTO blobs (tenant, id, pack, type, offset, length, plain_length) VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        for record in contents.packs {
            try pack.run(tenant.rawValue, record.id.hex, record.size)
            for entry in record.entries {
                try blob.run(
                    tenant.rawValue, entry.id.bytes, record.id.hex, Int(entry.location.type.rawValue),
                    entry.location.offset, entry.location.sealedLength, entry.location.plainLength)
            }
        }
    }

    /// Each pack's size in bytes, by pack id (hex), for one tenant: what a progress line of
    /// `verify --read-data` counts. Derived, so only ever an estimate, never a decision.
    public func packSizes(_ tenant: TenantID) throws -> [String: Int] {
        try read { db in
            Dictionary(try db.query("SELECT id, size FROM packs WHERE tenant = ?", tenant.rawValue).map { ($0.string(0), $0.int(1)) },
                       uniquingKeysWith: { a, _ in a })
        }
    }

    /// Packs and their byte counts for one tenant (for `tenant show` and reports).
    public func storageUse(_ tenant: TenantID) throws -> (packs: Int, bytes: Int) {
        try read { db in
            let row = try db.query("SELECT count(*), coalesce(sum(size), 0) FROM packs WHERE tenant = ?", tenant.rawValue)[0]
            return (row.int(0), row.int(1))
        }
    }

    // MARK: Recording and reconciling

    /// Records a finished backup: its index file, packs, blobs, new trees and snapshot.
    public func recordBackup(tenant: TenantID, result: Archiver.Result) throws {
        try write { db in
            if let indexID = result.newIndexID {
                try insertIndex(db, tenant: tenant, id: indexID, contents: result.newIndex)
            }
            try insertTrees(db, tenant: tenant, trees: result.newTrees)
            try insertSnapshot(db, tenant: tenant, id: result.snapshotID, snapshot: result.snapshot)
        }
    }

    /// Brings the tenant's rows in line with its repository in the store: snapshots, index
    /// files, packs, blobs and file listings. Cheap when nothing differs (two listings).
    public func sync(_ repository: Repository) throws {
        let tenant = repository.tenant
        let storeSnapshots = Set(try repository.snapshotIDs().map(\.hex))
        let storeIndexFiles = Set(try repository.store.list(below: Layout.indexPrefix(tenant)).map(\.key.name))
        let (catalogSnapshots, catalogIndexFiles) = try read { db in
            (Set(try db.query("SELECT id FROM snapshots WHERE tenant = ?", tenant.rawValue).map { $0.string(0) }),
             Set(try db.query("SELECT id FROM index_files WHERE tenant = ?", tenant.rawValue).map { $0.string(0) }))
        }
        if storeIndexFiles != catalogIndexFiles {
            try repository.loadIndex()
            let contents = repository.index.contents()
            try write { db in
                try db.run("DELETE FROM packs WHERE tenant = ?", tenant.rawValue)
                try db.run("DELETE FROM index_files WHERE tenant = ?", tenant.rawValue)
                for id in storeIndexFiles { try db.run("INSERT INTO index_files (tenant, id) VALUES (?, ?)", tenant.rawValue, id) }
                try insertPacks(db, tenant: tenant, contents: contents)
            }
        }
        let missing = storeSnapshots.subtracting(catalogSnapshots)
        let vanished = catalogSnapshots.subtracting(storeSnapshots)
        guard !missing.isEmpty || !vanished.isEmpty else { return }
        if repository.index.files.isEmpty { try repository.loadIndex() }
        for hex in missing.sorted() {
            let id = SnapshotID(hex: hex)!
            let snapshot = try repository.loadSnapshot(id)
            var trees: [BlobID: Tree] = [:]
            try collectTrees(snapshot.treeID!, repository: repository, into: &trees)
            try write { db in
                try insertTrees(db, tenant: tenant, trees: trees)
                try insertSnapshot(db, tenant: tenant, id: id, snapshot: snapshot)
            }
        }
        try write { db in
            for id in vanished { try db.run("DELETE FROM snapshots WHERE tenant = ? AND id = ?", tenant.rawValue, id) }
        }
    }

    /// Every tree under `root` that the catalog lacks.
    private func collectTrees(_ root: BlobID, repository: Repository, into trees: inout [BlobID: Tree]) throws {
        guard trees[root] == nil, try !read({ try hasTree($0, tenant: repository.tenant, id: root) }) else { return }
        let tree = try repository.loadTree(root)
        trees[root] = tree
        for node in tree.nodes where node.kind == .directory {
            if let subtree = node.subtree { try collectTrees(subtree, repository: repository, into: &trees) }
        }
    }

    /// Removes trees no snapshot of the tenant reaches any more (after forget).
    public func pruneTrees(tenant: TenantID) throws {
        try write { db in
            try db.run("""
                WITH RECURSIVE reachable(id) AS (
                    SELECT tree FROM snapshots WHERE tenant = ?1
                    UNION
                    SELECT e.subtree FROM tree_entries e JOIN reachable r ON e.tree = r.id
                    WHERE e.tenant = ?1 AND e.subtree IS NOT NULL
                )
                DELETE FROM trees WHERE tenant = ?1 AND id NOT IN (SELECT id FROM reachable)
                """, tenant.rawValue)
        }
    }

    /// Removes every row of the tenant, then makes sure the deleted rows do not linger in the
    /// file (`compact`).
    public func purge(_ tenant: TenantID) throws {
        try write { db in
            try db.run("DELETE FROM tree_entries WHERE tenant = ?", tenant.rawValue)
            try db.run("DELETE FROM blobs WHERE tenant = ?", tenant.rawValue)
            try db.run("DELETE FROM tenants WHERE id = ?", tenant.rawValue)
        }
        try compact()
    }

    /// Leaves no deleted row in the file: secure_delete overwrote them in place, the WAL is
    /// checkpointed and truncated, and VACUUM rewrites the database without free pages.
    public func compact() throws {
        try read { db in
            try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            try db.execute("VACUUM")
            try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }

    /// Rows that still mention the tenant, per table (destruction verification).
    public func rowsMentioning(_ tenant: TenantID) throws -> [String: Int] {
        try read { db in
            var counts: [String: Int] = [:]
            for (table, column) in [("tenants", "id"), ("snapshots", "tenant"), ("index_files", "tenant"), ("packs", "tenant"),
                                    ("blobs", "tenant"), ("trees", "tenant"), ("tree_entries", "tenant")] {
                let count = try db.query("SELECT count(*) FROM \(table) WHERE \(column) = ?", tenant.rawValue)[0].int(0)
                if count > 0 { counts[table] = count }
            }
            return counts
        }
    }
}

/// The catalog could not be used: which file, what is wrong with it in words, and the way
/// out. The catalog is an index of the store, so a damaged one is recreated, never repaired.
public struct CatalogError: KindedError, CustomStringConvertible {
    public let path: String
    public let error: SQLiteError

    public var kind: ErrorKind {
        switch error.code & 0xff {
        case 11, 26: return .integrity  // SQLITE_CORRUPT, SQLITE_NOTADB
        default: return .failed
        }
    }

    public var description: String {
        switch error.code & 0xff {
        case 11, 26:
            return "the catalog \(path) is damaged (\(error.message)); it is only an index of the store: "
                + "`lethe index rebuild` recreates it"
        case 8:  // SQLITE_READONLY
            return "cannot write the catalog \(path): the home is read-only (\(error.message))"
        case 13:  // SQLITE_FULL
            return "cannot write the catalog \(path): no space left on device (disk full)"
        case 14:  // SQLITE_CANTOPEN
            return "cannot open the catalog \(path): \(error.message) (is the home's folder missing or read-only?)"
        case 5, 6:  // SQLITE_BUSY, SQLITE_LOCKED
            return "the catalog \(path) is busy: another lethe process has held it for 30 s; try again when it ends"
        default:
            return "the catalog \(path) failed: \(error.message) (SQLite code \(error.code))"
        }
    }
}
