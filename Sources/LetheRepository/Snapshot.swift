import Foundation
import LetheStore

/// One backup of one tenant at one time: the root tree and what the run found. Stored
/// encrypted as `tenants/<t>/snapshots/<id>` (JSON inside).
public struct Snapshot: Codable, Sendable, Equatable {
    public var tenant: String
    /// ISO 8601, UTC.
    public var time: String
    /// Root tree blob id, hex.
    public var tree: String
    /// The snapshot this one was compared against for unchanged files, if any.
    public var parent: String?
    public var host: String
    /// The sources as configured (`dir:/srv/acme`, `sqlite:/srv/acme/app.db`, `cmd:pg_dump acme`).
    public var sources: [String]
    public var program: String
    public var summary: BackupSummary

    public init(
        tenant: String, time: String, tree: String, parent: String?, host: String, sources: [String],
        program: String, summary: BackupSummary
    ) {
        self.tenant = tenant
        self.time = time
        self.tree = tree
        self.parent = parent
        self.host = host
        self.sources = sources
        self.program = program
        self.summary = summary
    }

    public var treeID: BlobID? { BlobID(hex: tree) }

    /// The snapshot in `plaintext`, the authenticated content of `key`, which must be one of
    /// `tenant`'s and name a root tree.
    package static func decode(_ plaintext: [UInt8], tenant: TenantID, key: ObjectKey) throws -> Snapshot {
        let snapshot: Snapshot
        do {
            snapshot = try JSONDecoder().decode(Snapshot.self, from: Data(plaintext))
        } catch {
            throw IntegrityViolation(object: key, problem: "authenticates but does not parse as a snapshot")
        }
        guard snapshot.tenant == tenant.rawValue, snapshot.treeID != nil else {
            throw IntegrityViolation(object: key, problem: "names another tenant or no tree")
        }
        return snapshot
    }
}

/// What a backup did, per tenant: the numbers of the JSON summary.
public struct BackupSummary: Codable, Sendable, Equatable {
    public var filesNew = 0
    public var filesChanged = 0
    public var filesUnchanged = 0
    public var directories = 0
    /// Bytes of all files in the snapshot.
    public var bytesTotal = 0
    /// Bytes read from the sources (unchanged files are not read).
    public var bytesRead = 0
    /// Plaintext bytes of blobs that were new to the repository.
    public var bytesAdded = 0
    /// Bytes written to the store (packs, index, snapshot), ciphertext.
    public var bytesStored = 0
    public var blobsAdded = 0
    public var packsWritten = 0
    /// Files that could not be read, and why; the snapshot holds everything else.
    public var errors: [String] = []
    /// What was stored but looks wrong (a command that printed nothing): the backup is partial.
    public var warnings: [String] = []

    public init() {}

    enum CodingKeys: String, CodingKey {
        case filesNew, filesChanged, filesUnchanged, directories, bytesTotal, bytesRead, bytesAdded, bytesStored
        case blobsAdded, packsWritten, errors, warnings
    }

    /// Summaries written before warnings existed have none.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        filesNew = try c.decode(Int.self, forKey: .filesNew)
        filesChanged = try c.decode(Int.self, forKey: .filesChanged)
        filesUnchanged = try c.decode(Int.self, forKey: .filesUnchanged)
        directories = try c.decode(Int.self, forKey: .directories)
        bytesTotal = try c.decode(Int.self, forKey: .bytesTotal)
        bytesRead = try c.decode(Int.self, forKey: .bytesRead)
        bytesAdded = try c.decode(Int.self, forKey: .bytesAdded)
        bytesStored = try c.decode(Int.self, forKey: .bytesStored)
        blobsAdded = try c.decode(Int.self, forKey: .blobsAdded)
        packsWritten = try c.decode(Int.self, forKey: .packsWritten)
        errors = try c.decode([String].self, forKey: .errors)
        warnings = try c.decodeIfPresent([String].self, forKey: .warnings) ?? []
    }

    public var files: Int { filesNew + filesChanged + filesUnchanged }
}
