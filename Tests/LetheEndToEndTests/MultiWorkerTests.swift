import Foundation
import Testing

/// Issue 10, item 3: several `lethe nightly` workers, each with its own home, sharing one store
/// and one key directory, back up each tenant exactly once a night between them.
@Suite struct MultiWorkerTests {
    static let night = ["LETHE_NOW": "2026-03-01T02:00:00Z"]

    /// A second home beside `home`'s that shares its store and keys: a worker on another host.
    func worker(beside home: E2EHome, named name: String) throws -> String {
        let other = "\(home.root)/\(name)"
        let join = home.lethe(["init", "--join", "\(home.home)/lethe.json"], environment: ["LETHE_HOME": other])
        guard join.status == 0 else { throw E2EError("init --join: \(join.output)") }
        return other
    }

    func nightly(_ home: E2EHome, at workerHome: String, _ environment: [String: String] = night) -> E2ERun {
        var env = environment
        env["LETHE_HOME"] = workerHome
        return home.lethe(["nightly", "--json"], environment: env)
    }

    func snapshotCounts(_ home: E2EHome, _ tenants: [String]) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: tenants.map { ($0, home.objects("tenants/\($0)/snapshots").count) })
    }

    @Test func twoWorkersAtOnceBackUpEveryTenantExactlyOnce() throws {
        let home = try E2EHome()
        let tenants = (1...8).map { "t\($0)" }
        for tenant in tenants { try home.addTenant(tenant) }
        let second = try worker(beside: home, named: "home-b")
        let runs = ResultList()
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            runs.add(index == 0 ? self.nightly(home, at: home.home) : self.nightly(home, at: second))
        }
        for run in runs.all { #expect(run.status == 0, "\(run.output)") }
        let backedUp = runs.all.flatMap { run in
            ((try? run.json() as? [String: Any])?["backups"] as? [[String: Any]] ?? []).compactMap { $0["tenant"] as? String }
        }
        #expect(backedUp.sorted() == tenants.sorted(), "each tenant once between the two workers: \(backedUp)")
        #expect(snapshotCounts(home, tenants).values.allSatisfy { $0 == 1 })
        // Each host's catalog, synced from the store for the tenant asked about, knows every
        // tenant's snapshot, whichever worker made it; and the log is whole.
        for workerHome in [home.home, second] {
            for tenant in tenants {
                let list = home.lethe(["snapshots", tenant, "--json"], environment: ["LETHE_HOME": workerHome])
                #expect((try? list.json() as? [Any])?.count == 1, "\(workerHome) \(tenant): \(list.output)")
            }
        }
        #expect(home.lethe("audit", "verify").status == 0)
    }

    @Test func aWorkerKilledMidNightLeavesItsShardToTheOtherWithNoDuplicateOrLostSnapshot() throws {
        let home = try E2EHome()
        let tenants = (1...6).map { "t\($0)" }
        for tenant in tenants { try home.addTenant(tenant) }
        let second = try worker(beside: home, named: "home-b")
        // Killed right after writing its first snapshot, before logging it.
        var crash = Self.night
        crash["LETHE_CRASH_AT"] = "backup.snapshot-written#1"
        #expect(nightly(home, at: home.home, crash).status == 86)
        let after = snapshotCounts(home, tenants)
        #expect(after.values.reduce(0, +) >= 1)
        // The other worker, the same night, takes the dead worker's shard over.
        let run = nightly(home, at: second)
        #expect(run.status == 0, "\(run.output)")
        #expect(snapshotCounts(home, tenants).values.allSatisfy { $0 == 1 }, "\(snapshotCounts(home, tenants))")
        #expect(home.lethe("verify", "--read-data").status == 0)
        #expect(home.lethe("audit", "verify").status == 0)
    }

    @Test func aShardHeldByAWorkerOnAnotherHostIsTakenOverOnlyAfterItsLeaseExpires() throws {
        let home = try E2EHome()
        try home.addTenant("t1")
        #expect(home.lethe("config", "set", "leaseSeconds", "30").status == 0)
        // Every shard held by a live worker elsewhere, until 02:00:30.
        for shard in 0..<16 {
            try home.write("\(home.store)/leases/nightly/shard-\(shard)/" + String(format: "%020d", 1),
                           #"{"expires":"2026-03-01T02:00:30Z","generation":1,"holder":"elsewhere:1:a","released":false}"#)
        }
        let expired = nightly(home, at: home.home, ["LETHE_NOW": "2026-03-01T02:00:31Z"])
        #expect(expired.status == 0, "\(expired.output)")
        #expect(home.objects("tenants/t1/snapshots").count == 1)
    }
}

final class ResultList: @unchecked Sendable {
    private let lock = NSLock()
    private var runs: [E2ERun] = []
    func add(_ run: E2ERun) { lock.withLock { runs.append(run) } }
    var all: [E2ERun] { lock.withLock { runs } }
}
