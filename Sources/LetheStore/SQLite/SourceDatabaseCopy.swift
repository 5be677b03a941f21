import CSQLite
import Glibc

/// A transaction-consistent copy of someone else's SQLite database (a tenant's `sqlite:`
/// source), made without writing anything beside it, on a read-only path too.
///
/// A WAL-mode database is the hard case. A reader needs the `-shm` wal-index: when no
/// connection is open, SQLite has removed `-wal` and `-shm`, and a reader would create both —
/// which fails on a read-only path (SQLITE_CANTOPEN) and, on a writable one, leaves them
/// behind, since a read-only connection never checkpoints and deletes them. So:
/// * **Nobody has it open** (WAL mode, no `-wal`, no `-shm`): the main file is the whole
///   database. It is read with `immutable=1`, which creates nothing, and the copy is kept only
///   if the file and the absence of `-wal`/`-shm` are unchanged afterwards: a writer that
///   opened it meanwhile would have made them, and one that wrote and closed would have
///   checkpointed into the file. `immutable` is never used while a writer may be live.
/// * **A connection is open** (or one left `-wal`/`-shm`): SQLite's online backup under a
///   read-only connection, which reads even a read-only `-shm` a live writer maintains. When
///   SQLite cannot (a `-wal` without its `-shm` on a read-only path), the error says so.
public enum SourceDatabaseCopy {
    /// Copies the database at `path` to a new file at `destination`.
    public static func copy(_ path: String, to destination: String) throws {
        if try isWALMode(path), sidecars(of: path).isEmpty {
            let before = try Fingerprint(path)
            do {
                try Database(readOnly: path, parameters: ["immutable": "1"]).backup(to: destination)
                if try Fingerprint(path) == before, sidecars(of: path).isEmpty { return }
            } catch is SQLiteError {
                // Read again below as a live database: its error, if any, is the one to report.
            }
            _ = unlink(destination)
        }
        do {
            try Database(readOnly: path, parameters: [:]).backup(to: destination)
        } catch let error as SQLiteError {
            throw explained(error, path: path)
        }
    }

    /// The `-wal` and `-shm` files beside `path` that exist now.
    public static func sidecars(of path: String) -> [String] {
        ["-wal", "-shm"].map { path + $0 }.filter { access($0, F_OK) == 0 }
    }

    /// Whether the file's header says WAL (bytes 18 and 19 are 2: sqlite.org/fileformat.html).
    static func isWALMode(_ path: String) throws -> Bool {
        let file = try OwnedFile(path: path, flags: O_RDONLY)
        var header = [UInt8](repeating: 0, count: 20)
        let count = try header.withUnsafeMutableBytes { try file.readFully(into: $0) }
        return count == 20 && header[18] == 2 && header[19] == 2
    }

    /// SQLite's "unable to open database file" (14) or a read-only wal-index, with the cause
    /// named: what SQLite needed to write, and where.
    static func explained(_ error: SQLiteError, path: String) -> SQLiteError {
        let primary = error.code & 0xff
        let folder = FileSystem.parent(of: path)
        guard (primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY), (try? isWALMode(path)) == true,
              access(folder, W_OK) != 0 else { return error }
        let why = String(cString: strerror(errno))
        let present = sidecars(of: path).map { FileSystem.basename(of: $0) }
        return SQLiteError(code: error.code, message: """
            cannot read the WAL-mode database \(path): SQLite must create or write \(FileSystem.basename(of: path))-shm \
            beside it and \(folder) is not writable (\(why)); \(present.isEmpty ? "no -wal or -shm is there" : "\(present.joined(separator: " and ")) \(present.count == 1 ? "is" : "are") there") \
            — let Lethe write that folder (systemd: ReadWritePaths=), or have the application checkpoint and close the database
            """)
    }

    /// What changes when anyone writes the file: its identity, size, and modification and
    /// change times.
    struct Fingerprint: Equatable {
        let device: UInt64, inode: UInt64, size: Int64
        let modified: [Int], changed: [Int]

        init(_ path: String) throws {
            var info = stat()
            guard stat(path, &info) == 0 else { throw SystemError("inspect", path) }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            modified = [info.st_mtim.tv_sec, info.st_mtim.tv_nsec]
            changed = [info.st_ctim.tv_sec, info.st_ctim.tv_nsec]
        }
    }
}
