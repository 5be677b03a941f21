import Foundation
import Glibc
import LetheStore
import Testing
@testable import LetheRepository

@Suite struct TenantLockTests {
    let fixture = try! RepositoryFixture()
    let clock = SystemClock(environment: [:])

    func lock(_ exclusive: Bool, _ operation: String = "test", clock: Clock? = nil) throws -> TenantLock {
        try TenantLock.acquire(try fixture.repository("acme"), exclusive: exclusive, operation: operation, clock: clock ?? self.clock)
    }

    func lockObjects() throws -> [ObjectKey] {
        try fixture.store.list(prefix: Layout.lockPrefix(try TenantID("acme"))).map(\.key)
    }

    /// Rewrites the lock object at `key` as if `holder` (JSON as docs/format.md gives it) had written it.
    func forge(_ key: ObjectKey, host: String = ProcessInfo.processInfo.hostName, pid: Int32, time: Date, exclusive: Bool = true) throws {
        let holder: [String: Any] = [
            "exclusive": exclusive, "host": host, "operation": "backup", "pid": pid, "time": Timestamp.format(time),
        ]
        let json = try JSONSerialization.data(withJSONObject: holder, options: [.sortedKeys])
        _ = try fixture.repository("acme").putSealed(Array(json), kind: .lock, name: key.name, at: key)
    }

    @Test func anExclusiveLockExcludesAnotherExclusiveOneAndASharedOne() throws {
        let held = try lock(true, "backup")
        for exclusive in [true, false] {
            let error = #expect(throws: LetheError.self) { _ = try lock(exclusive) }
            #expect(error?.kind == .failed)
            #expect(error?.message.contains("backup") == true, "names the holder's operation")
        }
        #expect(try lockObjects().count == 1, "refused takers leave nothing behind")
        withExtendedLifetime(held) {}
    }

    @Test func sharedLocksCoexistButExcludeAnExclusiveOne() throws {
        let first = try lock(false, "restore")
        let second = try lock(false, "verify")
        #expect(try lockObjects().count == 2)
        #expect(throws: LetheError.self) { _ = try lock(true) }
        first.release()
        #expect(throws: LetheError.self) { _ = try lock(true) }
        second.release()
        let exclusive = try lock(true)
        withExtendedLifetime(exclusive) {}
    }

    @Test func releaseDeletesTheLockObjectAndIsIdempotent() throws {
        let held = try lock(true)
        #expect(try lockObjects().count == 1)
        held.release()
        #expect(try lockObjects().isEmpty)
        held.release()
        #expect(!FileSystem.exists("\(fixture.store.root)/locks/acme"), "no empty folder bears the tenant's name")
        #expect(FileSystem.isDirectory("\(fixture.store.root)/locks"), "the folder every tenant's locks share stays")
        let again = try lock(true)
        withExtendedLifetime(again) {}
    }

    @Test func releasingTheLastReferenceReleasesTheLock() throws {
        do { _ = try lock(true) }
        #expect(try lockObjects().isEmpty)
    }

    @Test func theLockObjectIsSealedAndDocumented() throws {
        let held = try lock(true, "prune")
        let key = try #require(try lockObjects().first)
        let plaintext = try fixture.repository("acme").getSealed(kind: .lock, name: key.name, at: key)
        let holder = try #require(try JSONSerialization.jsonObject(with: Data(plaintext)) as? [String: Any])
        #expect(Set(holder.keys) == ["exclusive", "host", "operation", "pid", "time"])
        #expect(holder["operation"] as? String == "prune")
        #expect((holder["pid"] as? NSNumber)?.int32Value == getpid())
        #expect(!String(decoding: try fixture.store.get(key), as: UTF8.self).contains("prune"), "not readable in the store")
        withExtendedLifetime(held) {}
    }

    @Test func aLockWhoseHolderProcessIsGoneIsStaleAndRemoved() throws {
        try #require(kill(999_999, 0) != 0 && errno == ESRCH, "pid 999999 must not exist for this test")
        let dead = try lock(true)
        let key = try #require(try lockObjects().first)
        try forge(key, pid: 999_999, time: Date())
        let taker = try lock(true)
        #expect(try !fixture.store.exists(key), "the stale lock was removed")
        #expect(try lockObjects().count == 1)
        withExtendedLifetime((dead, taker)) {}
    }

    @Test func aDeadPidOnAnotherHostIsNotStale() throws {
        let held = try lock(true)
        let key = try #require(try lockObjects().first)
        try forge(key, host: "another-host.invalid", pid: 999_999, time: Date())
        #expect(throws: LetheError.self) { _ = try lock(true) }
        #expect(try fixture.store.exists(key))
        withExtendedLifetime(held) {}
    }

    @Test func aLockNotRefreshedForHalfAnHourIsStale() throws {
        let start = Date()
        let held = try lock(true, clock: ManualClock(start))
        let key = try #require(try lockObjects().first)
        #expect(throws: LetheError.self) { _ = try lock(true, clock: ManualClock(start.addingTimeInterval(29 * 60))) }
        let taker = try lock(true, clock: ManualClock(start.addingTimeInterval(31 * 60)))
        #expect(try !fixture.store.exists(key))
        withExtendedLifetime((held, taker)) {}
    }

    @Test func anUnreadableLockBlocksWithAnExplanation() throws {
        let key = try Layout.lockPrefix(try TenantID("acme")).appending("garbage")
        try fixture.store.put(key, [1, 2, 3])
        let error = #expect(throws: LetheError.self) { _ = try lock(false) }
        #expect(error?.message.contains(key.rawValue) == true)
    }

    @Test func anotherTenantsLockDoesNotBlock() throws {
        let other = try TenantLock.acquire(try fixture.repository("globex"), exclusive: true, operation: "backup", clock: clock)
        let mine = try lock(true)
        #expect(try lockObjects().count == 1)
        #expect(try fixture.store.list(prefix: Layout.lockPrefix(try TenantID("globex"))).count == 1)
        withExtendedLifetime((other, mine)) {}
    }
}
