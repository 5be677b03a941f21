import Foundation
import Glibc
import LetheCrypto
import LetheStore

/// Who works on what, among workers on several hosts sharing one store: a lease on a name (a
/// tenant's night, the audit log), held by one worker at a time, for a limited time.
///
/// The store offers no lock, only create-if-absent (`ObjectStore.create`, S3's
/// `If-None-Match: *`). A lease is therefore a chain of generations under
/// `leases/<name>/<generation>`, each created only if absent: taking a free or expired lease,
/// renewing it and releasing it each create the next generation, and of two workers racing for
/// one generation exactly one creates it. The newest generation says who holds the lease and
/// until when. Nothing is overwritten, so a worker whose lease expired (it stalled, or its host
/// lost the network) cannot clobber its successor's: its next renewal fails, and it knows it
/// has lost the lease. A killed worker's leases simply expire.
///
/// Leases coordinate work; they decide nothing about trust. Whoever writes the store can take
/// or block a lease, as they can delete objects.
public final class Lease: @unchecked Sendable {
    /// One generation, as stored.
    package struct Record: Codable, Equatable {
        var holder: String
        var generation: Int
        var expires: String
        var released: Bool
        /// What was finished under this lease ("nightly"), when and by whom, for the next taker.
        var done: String?
        var doneAt: String?
        var doneBy: String?
    }

    /// What a holder of the lease recorded as done.
    public struct Done: Sendable {
        public let what: String
        public let at: String
        public let by: String

        public init(what: String, at: String, by: String) {
            self.what = what
            self.at = at
            self.by = by
        }
    }

    public let name: String
    private let store: ObjectStore
    private let worker: String
    private let clock: Clock
    private let duration: TimeInterval
    private let lock = NSLock()
    private var generation: Int
    private var lost = false
    private var finished = false
    private var timer: DispatchSourceTimer?

    private init(name: String, store: ObjectStore, worker: String, clock: Clock, duration: TimeInterval, generation: Int) {
        self.name = name
        self.store = store
        self.worker = worker
        self.clock = clock
        self.duration = duration
        self.generation = generation
    }

    static func prefix(_ name: String) throws -> ObjectKey { try ObjectKey("leases/\(name)") }
    static func key(_ name: String, _ generation: Int) throws -> ObjectKey {
        try prefix(name).appending(String(format: "%020d", generation))
    }

    /// The outcome of trying to take a lease.
    public enum Attempt {
        /// Taken; `previousDone` is what the last holder recorded as done, if anything.
        case taken(Lease, previousDone: Done?)
        /// Another worker holds it until `until`.
        case busy(holder: String, until: String)
    }

    /// Tries to take the lease on `name` for `duration` seconds, renewed in the background
    /// every third of it until released.
    public static func take(
        _ name: String, store: ObjectStore, worker: String, clock: Clock, duration: TimeInterval
    ) throws -> Attempt {
        for _ in 0..<4 {
            let newest = try newestRecord(name, store: store)
            if let newest, !newest.released, newest.holder != worker, !Lease.holderIsGone(newest.holder),
               let until = Timestamp.parse(newest.expires), clock.now() < until {
                return .busy(holder: newest.holder, until: newest.expires)
            }
            let next = nextGeneration(after: newest)
            let record = Record(
                holder: worker, generation: next, expires: Timestamp.format(clock.now().addingTimeInterval(duration)),
                released: false)
            guard try store.create(try key(name, next), try encode(record)) else { continue }  // lost a race: look again
            let lease = Lease(name: name, store: store, worker: worker, clock: clock, duration: duration, generation: next)
            try lease.forget(below: next)
            lease.startRenewing()
            let done = newest.flatMap { record in
                record.done.map { Done(what: $0, at: record.doneAt ?? record.expires, by: record.doneBy ?? record.holder) }
            }
            return .taken(lease, previousDone: done)
        }
        throw LetheError.failed("could not take the lease \(name): other workers keep taking it")
    }

    /// Runs `body` holding the lease on `name`, waiting while another worker holds it, for at
    /// most `wait` seconds of wall time.
    public static func holding<T>(
        _ name: String, store: ObjectStore, worker: String, clock: Clock, duration: TimeInterval, wait: TimeInterval,
        _ body: () throws -> T
    ) throws -> T {
        let deadline = Date().addingTimeInterval(wait)
        while true {
            switch try take(name, store: store, worker: worker, clock: clock, duration: duration) {
            case .taken(let lease, _):
                defer { lease.release() }
                return try body()
            case .busy(let holder, let until):
                guard Date() < deadline else {
                    throw LetheError.failed("\(name) is held by \(holder) until \(until) (another lethe process at work); try again")
                }
                usleep(50_000)
            }
        }
    }

    /// True until a renewal failed because another worker took the lease over.
    public var isHeld: Bool { lock.withLock { !lost && !finished } }

    /// Gives the lease up, recording what was done under it: by this worker now, or, passed on
    /// unchanged, what an earlier holder did (so that skipping done work does not make it look
    /// newer than it is).
    public func release(done: Done? = nil) {
        let generation: Int? = lock.withLock {
            guard !finished else { return nil }
            finished = true
            timer?.cancel()
            return lost ? nil : self.generation
        }
        guard let generation else { return }
        let record = Record(
            holder: worker, generation: generation + 1, expires: Timestamp.format(clock.now()), released: true,
            done: done?.what, doneAt: done?.at, doneBy: done?.by)
        _ = try? store.create(try Lease.key(name, generation + 1), try Lease.encode(record))
    }

    deinit {
        release()
    }

    // MARK: Renewal

    /// Creates the next generation with a later expiry; fails, and marks the lease lost, when
    /// someone else created it first.
    public func renew() {
        lock.withLock {
            guard !lost, !finished else { return }
            let record = Record(
                holder: worker, generation: generation + 1, expires: Timestamp.format(clock.now().addingTimeInterval(duration)),
                released: false)
            guard let created = try? store.create(try Lease.key(name, generation + 1), try Lease.encode(record)), created else {
                lost = true
                return
            }
            generation += 1
            try? forget(below: generation)
        }
    }

    private func startRenewing() {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        let interval = max(duration / 3, 1)
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in self?.renew() }
        lock.withLock { self.timer = timer }
        timer.resume()
    }

    /// A name for this process among workers: `host:pid:random`.
    public static func workerName() throws -> String {
        "\(ProcessInfo.processInfo.hostName):\(getpid()):\(Hex.encode(try SystemRandom.bytes(count: 4)))"
    }

    /// True when `holder` is a process of this host that no longer exists: its leases are free
    /// at once rather than at their expiry (a crash, a kill -9).
    static func holderIsGone(_ holder: String) -> Bool {
        let parts = holder.split(separator: ":")
        guard parts.count == 3, parts[0] == ProcessInfo.processInfo.hostName, let pid = Int32(parts[1]) else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    // MARK: Records

    /// Deletes generations before `generation`, keeping the one just before (whose `done` the
    /// next taker reads).
    private func forget(below generation: Int) throws {
        for object in try store.list(below: try Lease.prefix(name)) {
            if let number = Lease.generation(ofName: object.key.name), number < generation - 1 { try store.delete(object.key) }
        }
    }

    private static func newestRecord(_ name: String, store: ObjectStore) throws -> Record? {
        guard let newest = try store.list(below: try prefix(name)).filter({ generation(ofName: $0.key.name) != nil }).last else { return nil }
        return decodeRecord(objectName: newest.key.name, bytes: try? store.get(newest.key))
    }

    /// The generation stored as `objectName` (nil when the name is not a generation), holding
    /// `bytes` (nil when they could not be read). A generation that does not parse (damaged,
    /// or written by hand) holds nothing.
    package static func decodeRecord(objectName: String, bytes: [UInt8]?) -> Record? {
        guard let generation = generation(ofName: objectName) else { return nil }
        guard let bytes, var record = try? JSONDecoder().decode(Record.self, from: Data(bytes)) else {
            return Record(holder: "", generation: generation, expires: "", released: true)
        }
        record.generation = generation
        return record
    }

    /// Generations count takings, renewals and releases, so none comes near this; a name above
    /// it was not written by Lethe (and the generation after it would overflow).
    static let maximumGeneration = 1 << 62

    /// The generation an object of a lease is named after: exactly the 20 decimal digits
    /// `key` writes, below `maximumGeneration`; nil for any other name, which holds nothing.
    static func generation(ofName name: String) -> Int? {
        guard name.utf8.count == 20, name.utf8.allSatisfy({ (48...57).contains($0) }), let number = Int(name),
              number < maximumGeneration else { return nil }
        return number
    }

    /// The generation that takes over from `newest`.
    package static func nextGeneration(after newest: Record?) -> Int {
        (newest?.generation ?? 0) + 1
    }

    private static func encode(_ record: Record) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(record))
    }
}
