import Foundation
import LetheStore

/// Reads the blobs of a restore or an export with one ranged read per run of neighbouring
/// blobs of a pack, instead of one per blob.
///
/// A backup writes a file's blobs, and the files of a folder, one after the other into its
/// packs, so a restore that walks the snapshot in the same order asks for them in pack order.
/// On a bucket every blob read is an HTTP exchange: one per blob made a restore from
/// SeaweedFS 6 times slower than restic's, which reads each pack's range once. Given the
/// order in which blobs will be asked for, this plans runs: consecutive blobs of one pack,
/// each starting at most `maximumGap` bytes after the last one ended, up to `maximumRun`
/// bytes in all. A run is read whole when one of its blobs is first asked for, and kept
/// while blobs are taken from it; only the `retainedRuns` read last stay in memory. A run is
/// read at most once: a blob asked for after its run was let go (content met again later in
/// the walk, such as many copies of one file) is read alone, never its whole run again, and
/// so is every blob of a run whose read failed, which leaves `readBlob` to name what is wrong
/// (an object missing or cut short). Every blob is authenticated as it is taken, exactly as
/// `Repository.readBlob` does.
///
/// Shared by the restore's file workers: each run has its own lock, and the list of those in
/// memory another, never held together; hence `@unchecked Sendable`.
public final class CoalescedBlobReader: @unchecked Sendable {
    public static let maximumRun = 8 << 20
    public static let maximumGap = 256 << 10
    public static let retainedRuns = 8

    private final class Run {
        enum State {
            case unread
            /// The sealed bytes of `range`.
            case loaded([UInt8])
            /// Let go of, or failed to read: its blobs are read one by one.
            case done
        }

        let pack: PackID
        let range: Range<Int>
        let lock = NSLock()
        var state = State.unread

        init(pack: PackID, range: Range<Int>) {
            self.pack = pack
            self.range = range
        }
    }

    private let repository: Repository
    private let runs: [BlobID: Run]
    private let lock = NSLock()
    /// The runs in memory, the one read last at the end.
    private var loaded: [Run] = []

    /// Plans the runs for blobs asked for in `order` (repeats and blobs in no index allowed).
    public init(repository: Repository, order: [BlobID]) {
        self.repository = repository
        var runs: [BlobID: Run] = [:]
        var current: (pack: PackID, start: Int, end: Int, blobs: [BlobID])?
        func close() {
            guard let run = current else { return }
            let shared = Run(pack: run.pack, range: run.start..<run.end)
            for blob in run.blobs { runs[blob] = shared }
            current = nil
        }
        var seen = Set<BlobID>()
        for blob in order where seen.insert(blob).inserted {
            guard let location = repository.index.location(of: blob) else { continue }
            let end = location.offset + location.sealedLength
            if let run = current, run.pack == location.pack, location.offset >= run.end,
               location.offset - run.end <= Self.maximumGap, end - run.start <= Self.maximumRun {
                current!.end = end
                current!.blobs.append(blob)
            } else {
                close()
                current = (location.pack, location.offset, end, [blob])
            }
        }
        close()
        self.runs = runs
    }

    /// The plaintext of blob `id`, authenticated.
    public func read(_ id: BlobID) throws -> [UInt8] {
        guard let run = runs[id], let location = repository.index.location(of: id), location.pack == run.pack else {
            return try repository.readBlob(id)
        }
        let start = location.offset - run.range.lowerBound
        var evicted: [Run] = []
        let sealed: [UInt8]? = run.lock.withLock {
            if case .unread = run.state {
                if let bytes = try? repository.store.get(Layout.pack(repository.tenant, run.pack), range: run.range) {
                    run.state = .loaded(bytes)
                    evicted = noteLoaded(run)
                } else {
                    run.state = .done
                }
            }
            guard case .loaded(let bytes) = run.state, start >= 0, start + location.sealedLength <= bytes.count else { return nil }
            return Array(bytes[start..<(start + location.sealedLength)])
        }
        // Outside `run`'s lock: no worker ever holds two runs' locks.
        for old in evicted where old !== run {
            old.lock.withLock { old.state = .done }
        }
        guard let sealed else { return try repository.readBlob(id) }
        return try sealed.withUnsafeBytes { try repository.openBlob($0, id: id, location: location, packKey: nil) }
    }

    /// Notes `run` as read last; the runs beyond the limit, whose bytes the caller lets go of.
    private func noteLoaded(_ run: Run) -> [Run] {
        lock.withLock {
            loaded.append(run)
            guard loaded.count > Self.retainedRuns else { return [] }
            let old = Array(loaded.prefix(loaded.count - Self.retainedRuns))
            loaded.removeFirst(old.count)
            return old
        }
    }
}
