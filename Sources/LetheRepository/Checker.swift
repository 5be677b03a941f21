import LetheCrypto
import LetheStore

/// Verifies a tenant's repository from the store alone, naming every object that fails.
///
/// The structural check authenticates every index file and snapshot, walks every snapshot's
/// trees, confirms that every blob they reference is indexed, and authenticates every pack's
/// header against the index. Reading data (`readData`) additionally decrypts every blob of the
/// selected packs and recomputes its keyed id. Objects under the tenant's prefix that are not
/// part of the repository, and objects of another tenant copied in, are reported too.
public final class Checker {
    public struct Report: Codable, Sendable, Equatable {
        /// Integrity violations, each naming an object.
        public var errors: [String] = []
        /// Things that are not damage: leftovers of an interrupted backup, for instance.
        public var notes: [String] = []
        public var snapshots = 0
        public var trees = 0
        public var packs = 0
        public var packsRead = 0
        public var blobsRead = 0
        public var bytesRead = 0

        public var isClean: Bool { errors.isEmpty }

        public init() {}
    }

    private let repository: Repository
    private var report = Report()
    /// Blobs the snapshots reference that no index lists.
    private var lost = Set<BlobID>()
    private var tenant: TenantID { repository.tenant }

    public init(repository: Repository) {
        self.repository = repository
    }

    /// `readPacks` selects the packs whose data is read (all of them for
    /// `verify --read-data`, a rotating sample for the nightly run, none by default).
    public func run(readPacks: (PackID) -> Bool) throws -> Report {
        let objects = try repository.store.list(prefix: tenant.storePrefix)
        var packsInStore: [PackID: Int] = [:]
        var indexFiles: [IndexID] = []
        var snapshotIDs: [SnapshotID] = []
        var record = false
        var ledger = false
        for object in objects {
            switch Layout.classify(object.key, tenant: tenant) {
            case .pack(let id): packsInStore[id] = object.size
            case .index(let id): indexFiles.append(id)
            case .snapshot(let id): snapshotIDs.append(id)
            case .record: record = true
            case .erasureLedger: ledger = true
            case .unknown: report.errors.append("\(object.key): not an object of this repository")
            }
        }
        // The tenant's record (its name, sources, lifecycle and legal hold) must authenticate;
        // whether it must exist is the caller's to say (`VerifyService`).
        if record {
            do {
                _ = try repository.getSealed(kind: .tenantRecord, name: tenant.rawValue, at: Layout.record(tenant))
            } catch {
                report.errors.append(describe(error))
            }
        }

        // The erasure ledger must authenticate; whether it is the version the audit log names
        // is the caller's to say (`VerifyService`).
        if ledger {
            do {
                _ = try repository.getSealed(kind: .erasureLedger, name: tenant.rawValue, at: Layout.erasureLedger(tenant))
            } catch {
                report.errors.append(describe(error))
            }
        }

        // Index files.
        var index = BlobIndex()
        for id in indexFiles {
            do {
                index.add(try repository.readIndex(id), file: id)
            } catch {
                report.errors.append(describe(error))
            }
        }

        // Packs: present, of the indexed size, header authentic and equal to the index.
        var indexedEntries: [PackID: Set<PackEntry>] = [:]
        for (blob, location) in index.locations {
            indexedEntries[location.pack, default: []].insert(PackEntry(id: blob, location: location))
        }
        for (pack, size) in index.packs.sorted(by: { $0.key < $1.key }) {
            report.packs += 1
            let key = Layout.pack(tenant, pack)
            guard let actual = packsInStore[pack] else {
                report.errors.append("\(key): missing (listed by the index)")
                continue
            }
            guard actual == size else {
                report.errors.append("\(key): \(actual) bytes, the index says \(size) (truncated or replaced)")
                continue
            }
            do {
                let header = Set(try repository.readPackHeader(pack).entries)
                if let listed = indexedEntries[pack], !listed.isSubset(of: header) {
                    report.errors.append("\(key): header disagrees with the index")
                }
            } catch {
                report.errors.append(describe(error))
            }
        }
        var unindexed: [BlobID: PackID] = [:]
        for (pack, _) in packsInStore where index.packs[pack] == nil {
            let key = Layout.pack(tenant, pack)
            do {
                for entry in try repository.readPackHeader(pack).entries { unindexed[entry.id] = pack }
                report.notes.append("\(key): not in any index (left by an interrupted backup or prune; `lethe prune` removes it)")
            } catch {
                report.errors.append(describe(error))
            }
        }

        // Snapshots and their trees.
        let originalIndex = repository.index
        repository.replaceIndex(index)
        defer { repository.replaceIndex(originalIndex) }
        var seenTrees = Set<BlobID>()
        for id in snapshotIDs {
            report.snapshots += 1
            do {
                let snapshot = try repository.loadSnapshot(id)
                try walk(snapshot.treeID!, seen: &seenTrees, index: index, path: "snapshot \(id.short):")
            } catch {
                report.errors.append(describe(error))
            }
        }

        // Blobs the snapshots need that no index lists, found in a pack no index lists: what
        // is missing is the index object that listed that pack.
        let orphaned = Dictionary(grouping: lost.compactMap { blob in unindexed[blob].map { (blob, $0) } }, by: \.1)
        for (pack, blobs) in orphaned.sorted(by: { $0.key < $1.key }) {
            // Not a leftover for prune to remove: the note said so before the walk knew better.
            report.notes.removeAll { $0.hasPrefix("\(Layout.pack(tenant, pack)): not in any index") }
            report.errors.append(
                "\(Layout.pack(tenant, pack)): holds \(blobs.count) blob(s) the snapshots need (\(blobs[0].0.short)…) but no index lists it: "
                    + "an index object under \(Layout.indexPrefix(tenant)) that listed it is missing or was replaced")
        }

        // Data.
        for pack in index.packs.keys.sorted() where packsInStore[pack] == index.packs[pack] && readPacks(pack) {
            readData(pack, entries: indexedEntries[pack] ?? [])
        }
        return report
    }

    private func walk(_ id: BlobID, seen: inout Set<BlobID>, index: BlobIndex, path: String) throws {
        guard seen.insert(id).inserted else { return }
        report.trees += 1
        let tree: Tree
        do {
            tree = try repository.loadTree(id)
        } catch {
            if !index.contains(id) { lost.insert(id) }
            report.errors.append("\(path) tree \(id.short): \(describe(error))")
            return
        }
        for node in tree.nodes {
            switch node.kind {
            case .directory:
                if let subtree = node.subtree { try walk(subtree, seen: &seen, index: index, path: "\(path)/\(node.name)") }
            case .file:
                for blob in node.content where !index.contains(blob) {
                    lost.insert(blob)
                    report.errors.append("\(path)/\(node.name): data blob \(blob.short) is in no index (lost)")
                }
            case .symlink:
                break
            }
        }
    }

    private func readData(_ pack: PackID, entries: Set<PackEntry>) {
        let key = Layout.pack(tenant, pack)
        report.packsRead += 1
        do {
            let bytes = try repository.store.get(key)
            report.bytesRead += bytes.count
            if !bytes.starts(with: Pack.preamble) {
                report.errors.append("\(key): does not start with the pack marker (damaged or not a pack)")
            }
            let packKey = try repository.packKey(pack)
            bytes.withUnsafeBytes { raw in
                for entry in entries.sorted(by: { $0.location.offset < $1.location.offset }) {
                    let range = entry.location.offset..<(entry.location.offset + entry.location.sealedLength)
                    guard range.upperBound <= raw.count else {
                        report.errors.append("\(key): truncated inside blob \(entry.id.short)")
                        continue
                    }
                    do {
                        let plaintext = try repository.openBlob(
                            UnsafeRawBufferPointer(rebasing: raw[range]), id: entry.id, location: entry.location, packKey: packKey)
                        report.blobsRead += 1
                        if try repository.keys.blobID(for: plaintext) != entry.id {
                            report.errors.append("\(key): blob \(entry.id.short) does not match its id")
                        }
                    } catch {
                        report.errors.append(describe(error))
                    }
                }
            }
        } catch {
            report.errors.append(describe(error))
        }
    }

    private func describe(_ error: Error) -> String {
        if let violation = error as? IntegrityViolation { return "\(violation.object): \(violation.problem)" }
        if let missing = error as? ObjectNotFound { return "\(missing.key): missing" }
        return "\(error)"
    }
}
