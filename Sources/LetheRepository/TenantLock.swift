import Foundation
import Glibc
import LetheCrypto
import LetheStore

/// A lock on one tenant's repository, kept as an object in the store (`locks/<t>/<id>`) so
/// that it works the same on a shared bucket as on a local disk.
///
/// Exclusive locks (backup, forget, prune, destruction) exclude every other lock; shared
/// locks (restore, export, verify) exclude only exclusive ones. A lock is stale, and removed
/// by the next taker, when it was written on this host by a process that no longer exists, or
/// when it has not been refreshed for `staleAfter` (a holder refreshes every
/// `refreshInterval`). The lock is sealed with the tenant's key like everything else.
public final class TenantLock: @unchecked Sendable {
    public static let staleAfter: TimeInterval = 30 * 60
    public static let refreshInterval: TimeInterval = 5 * 60

    package struct Holder: Codable {
        var host: String
        var pid: Int32
        var time: String
        var exclusive: Bool
        var operation: String
    }

    private let repository: Repository
    private let id: String
    private let key: ObjectKey
    private let clock: Clock
    private var holder: Holder
    private var timer: DispatchSourceTimer?
    private let lock = NSLock()
    private var released = false

    private init(repository: Repository, id: String, holder: Holder, clock: Clock) {
        self.repository = repository
        self.id = id
        key = try! Layout.lockPrefix(repository.tenant).appending(id)
        self.holder = holder
        self.clock = clock
    }

    /// Takes the lock or throws `LetheError.failed` naming who holds it.
    public static func acquire(_ repository: Repository, exclusive: Bool, operation: String, clock: Clock) throws -> TenantLock {
        try checkConflicts(repository, exclusive: exclusive, ignoring: nil, clock: clock)
        let id = Hex.encode(try SystemRandom.bytes(count: 16))
        let holder = Holder(
            host: ProcessInfo.processInfo.hostName, pid: getpid(), time: Timestamp.format(clock.now()),
            exclusive: exclusive, operation: operation)
        let lock = TenantLock(repository: repository, id: id, holder: holder, clock: clock)
        try lock.write()
        // Two takers may have written at the same moment: look again, and back off if so.
        do {
            try checkConflicts(repository, exclusive: exclusive, ignoring: id, clock: clock)
        } catch {
            lock.release()
            throw error
        }
        lock.startRefreshing()
        return lock
    }

    /// Releases the lock (also done on deinit).
    public func release() {
        lock.withLock {
            guard !released else { return }
            released = true
            timer?.cancel()
            try? repository.store.delete(key)
        }
    }

    deinit {
        release()
    }

    private func write() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        _ = try repository.putSealed(Array(try encoder.encode(holder)), kind: .lock, name: id, at: key)
    }

    private func startRefreshing() {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        timer.schedule(deadline: .now() + TenantLock.refreshInterval, repeating: TenantLock.refreshInterval)
        timer.setEventHandler { [weak self] in
            guard let self else { return }
            self.lock.withLock {
                guard !self.released else { return }
                self.holder.time = Timestamp.format(self.clock.now())
                try? self.write()
            }
        }
        self.timer = timer
        timer.resume()
    }

    private static func checkConflicts(_ repository: Repository, exclusive: Bool, ignoring: String?, clock: Clock) throws {
        let tenant = repository.tenant
        for object in try repository.store.list(below: Layout.lockPrefix(tenant)) where object.key.name != ignoring {
            let holder: Holder
            do {
                let plaintext = try repository.getSealed(kind: .lock, name: object.key.name, at: object.key)
                holder = try JSONDecoder().decode(Holder.self, from: Data(plaintext))
            } catch is ObjectNotFound {
                continue
            } catch {
                throw LetheError.integrity("tenant \(tenant)'s lock \(object.key) does not authenticate (damaged, or not written by Lethe)")
            }
            if isStale(holder, clock: clock) {
                try? repository.store.delete(object.key)
                continue
            }
            if exclusive || holder.exclusive {
                throw LetheError.failed(
                    "tenant \(tenant) is locked by \(holder.operation) (pid \(holder.pid) on \(holder.host) since \(holder.time)); try again when it ends")
            }
        }
    }

    private static func isStale(_ holder: Holder, clock: Clock) -> Bool {
        if holder.host == ProcessInfo.processInfo.hostName, kill(holder.pid, 0) != 0, errno == ESRCH {
            return true
        }
        guard let time = Timestamp.parse(holder.time) else { return true }
        return clock.now().timeIntervalSince(time) > staleAfter
    }
}
