import LetheStore

/// The catalog's schema, as numbered migrations. The catalog is an index of the object store
/// (`lethe index rebuild` recreates it from the store alone), so a migration may always be
/// replaced by a rebuild.
enum CatalogSchema {
    static let migrations: [Migration] = [
        Migration(id: 1, name: "tenants, snapshots, packs, blobs, trees", sql: """
            CREATE TABLE tenants (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                state TEXT NOT NULL,
                created TEXT NOT NULL,
                offboarded_at TEXT,
                window_days INTEGER,
                hold_reason TEXT,
                record TEXT NOT NULL
            );
            CREATE TABLE snapshots (
                tenant TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                id TEXT NOT NULL,
                time TEXT NOT NULL,
                tree BLOB NOT NULL,
                parent TEXT,
                host TEXT NOT NULL,
                files INTEGER NOT NULL,
                bytes INTEGER NOT NULL,
                summary TEXT NOT NULL,
                PRIMARY KEY (tenant, id)
            );
            CREATE INDEX snapshots_by_time ON snapshots(tenant, time);
            CREATE TABLE index_files (
                tenant TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                id TEXT NOT NULL,
                PRIMARY KEY (tenant, id)
            );
            CREATE TABLE packs (
                tenant TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                id TEXT NOT NULL,
                size INTEGER NOT NULL,
                PRIMARY KEY (tenant, id)
            );
            CREATE TABLE blobs (
                tenant TEXT NOT NULL,
                id BLOB NOT NULL,
                pack TEXT NOT NULL,
                type INTEGER NOT NULL,
                offset INTEGER NOT NULL,
                length INTEGER NOT NULL,
                plain_length INTEGER NOT NULL,
                PRIMARY KEY (tenant, id, pack),
                FOREIGN KEY (tenant, pack) REFERENCES packs(tenant, id) ON DELETE CASCADE
            ) WITHOUT ROWID;
            CREATE TABLE trees (
                tenant TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                id BLOB NOT NULL,
                PRIMARY KEY (tenant, id)
            ) WITHOUT ROWID;
            CREATE TABLE tree_entries (
                tenant TEXT NOT NULL,
                tree BLOB NOT NULL,
                name TEXT NOT NULL,
                kind INTEGER NOT NULL,
                size INTEGER NOT NULL,
                mode INTEGER NOT NULL,
                mtime INTEGER NOT NULL,
                subtree BLOB,
                target TEXT,
                PRIMARY KEY (tenant, tree, name),
                FOREIGN KEY (tenant, tree) REFERENCES trees(tenant, id) ON DELETE CASCADE
            ) WITHOUT ROWID;
            CREATE TABLE tombstones (
                tenant TEXT PRIMARY KEY,
                report TEXT NOT NULL,
                destroyed_at TEXT NOT NULL
            );
            """),
        Migration(id: 2, name: "destruction reports", sql: """
            CREATE TABLE reports (
                id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                request TEXT NOT NULL,
                finished TEXT NOT NULL,
                sha256 TEXT NOT NULL
            );
            """),
    ]
}
