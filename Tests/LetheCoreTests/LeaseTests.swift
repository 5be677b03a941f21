import Foundation
import LetheCore
import LetheStore
import Testing

/// Leases between workers: exactly one taker, expiry, takeover, and a lost lease that knows it.
@Suite struct LeaseTests {
    let root = NSTemporaryDirectory() + "lethe-lease-" + UUID().uuidString
    var store: LocalStore { try! LocalStore(root: root) }
    let clock = ManualClock(Timestamp.parse("2026-01-10T02:00:00Z")!)

    func take(_ worker: String, duration: TimeInterval = 60) throws -> Lease.Attempt {
        try Lease.take("tenant/acme", store: store, worker: worker, clock: clock, duration: duration)
    }

    @Test func ofManyWorkersRacingForAFreeLeaseExactlyOneTakesIt() throws {
        let store = self.store
        let clock = self.clock
        let winners = ResultBox()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            if case .taken(let lease, _) = try! Lease.take("tenant/acme", store: store, worker: "other-host:\(worker):x", clock: clock, duration: 60) {
                winners.add(lease)
            }
        }
        #expect(winners.count == 1)
    }

    @Test func aHeldLeaseIsBusyUntilItExpiresThenAnotherWorkerTakesItOver() throws {
        guard case .taken(let first, _) = try take("host-a:1:a") else { Issue.record("a free lease was not taken"); return }
        guard case .busy(let holder, _) = try take("host-b:1:b") else { Issue.record("a held lease was taken"); return }
        #expect(holder == "host-a:1:a")
        clock.advance(by: 61)
        guard case .taken(let second, _) = try take("host-b:1:b") else { Issue.record("an expired lease was not taken over"); return }
        // The first holder, back from a stall, cannot renew over its successor: it has lost the lease.
        first.renew()
        #expect(!first.isHeld && second.isHeld)
    }

    /// Found by the lease fuzz target: a generation named after `Int.max` (by whoever writes
    /// the store) made the next generation overflow, and every taker trap.
    @Test(arguments: ["09223372036854775807", "04611686018427387904"])
    func aGenerationNoLetheWroteIsIgnored(_ name: String) throws {
        guard case .taken(let lease, _) = try take("host-a:1:a") else { Issue.record("not taken"); return }
        lease.release()
        try store.put(try ObjectKey("leases/tenant/acme/\(name)"), Array(#"{"expires":"","generation":1,"holder":"x","released":true}"#.utf8))
        guard case .taken(let next, _) = try take("host-b:1:b") else { Issue.record("not taken"); return }
        next.release()
        #expect(try store.list(prefix: try ObjectKey("leases/tenant/acme")).map(\.key.name).contains("00000000000000000004"))
    }

    @Test func releasingPassesWhatWasDoneToTheNextHolder() throws {
        guard case .taken(let lease, let before) = try take("host-a:1:a") else { Issue.record("not taken"); return }
        #expect(before == nil)
        lease.release(done: .init(what: "nightly", at: "2026-01-10T02:05:00Z", by: "host-a:1:a"))
        guard case .taken(let next, let done) = try take("host-b:1:b") else { Issue.record("a released lease was not free"); return }
        #expect(done?.what == "nightly" && done?.at == "2026-01-10T02:05:00Z" && done?.by == "host-a:1:a")
        // Passed on unchanged, it keeps its time: skipping done work never makes it look newer.
        next.release(done: done)
        guard case .taken(_, let again) = try take("host-c:1:c") else { Issue.record("not free"); return }
        #expect(again?.at == "2026-01-10T02:05:00Z")
    }

    @Test func aLeaseOfADeadProcessOnThisHostIsFreeAtOnce() throws {
        // A pid that cannot exist on Linux (above pid_max).
        let dead = "\(ProcessInfo.processInfo.hostName):4194305:x"
        guard case .taken = try take(dead) else { Issue.record("not taken"); return }
        guard case .taken = try take("host-b:1:b") else { Issue.record("a dead process's lease was busy"); return }
    }

    @Test func oldGenerationsAreForgotten() throws {
        for worker in 0..<5 {
            guard case .taken(let lease, _) = try take("host:\(worker):x") else { Issue.record("not taken"); return }
            lease.release()
        }
        #expect(try store.list(prefix: try ObjectKey("leases/tenant/acme")).count <= 3)
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var leases: [Lease] = []
    func add(_ lease: Lease) { lock.withLock { leases.append(lease) } }
    var count: Int { lock.withLock { leases.count } }
}
