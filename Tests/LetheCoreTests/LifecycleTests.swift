import Foundation
import LetheCore
import LetheRepository
import LetheStore
import Testing

/// Every lifecycle transition, its refusals, and the restore window's boundaries.
@Suite struct LifecycleTests {
    let test = try! TestInstallation()
    var lifecycle: Lifecycle { Lifecycle(test.installation) }
    var registry: TenantRegistry { TenantRegistry(test.installation) }

    func restore(_ tenant: TenantID) throws -> RestoreService.Result {
        try RestoreService(test.installation).restore(
            tenant: tenant, snapshot: nil,
            options: Restorer.Options(target: "\(test.root)/restore-\(UUID().uuidString)"))
    }

    func isRefused(_ body: () throws -> Void) -> Bool {
        do {
            try body()
            return false
        } catch let error as LetheError {
            return error.kind == .refused
        } catch {
            return false
        }
    }

    @Test func offboardingStopsBackupsAndStartsTheWindow() throws {
        let acme = try test.addTenant("acme")
        #expect(try test.backup(acme).status == .succeeded)
        let record = try lifecycle.offboard(acme, windowDays: nil)
        #expect(record.state == .offboarded)
        #expect(record.restoreWindowDays == 90)
        #expect(lifecycle.windowEnd(record) == TestInstallation.start.addingTimeInterval(90 * 86_400))
        let second = try test.backup(acme)
        #expect(second.status == .failed)
        #expect(second.error?.contains("offboarded") == true)
    }

    @Test func returningClientRestoresOnDay89AndTheTenantIsDueOnDay91() throws {
        let acme = try test.addTenant("acme")
        _ = try test.backup(acme)
        _ = try lifecycle.offboard(acme, windowDays: nil)
        test.advance(days: 89)
        #expect(try restore(acme).summary.files == 2)
        #expect(try lifecycle.due().isEmpty)
        test.advance(days: 2)
        let due = try lifecycle.due()
        #expect(due.map(\.tenant) == ["acme"])
        #expect(due.first?.daysOverdue == 1)
        #expect(isRefused { _ = try restore(acme) })
    }

    @Test func configuredWindowAppliesAndTheOffboardingOptionOverridesIt() throws {
        var configuration = test.installation.configuration
        configuration.restoreWindowDays = 30
        try test.installation.home.saveConfiguration(configuration)
        let reopened = try Installation(home: test.installation.home, clock: test.clock)
        let a = try test.addTenant("a")
        let b = try test.addTenant("b")
        #expect(try Lifecycle(reopened).offboard(a, windowDays: nil).restoreWindowDays == 30)
        #expect(try Lifecycle(reopened).offboard(b, windowDays: 7).restoreWindowDays == 7)
        test.advance(days: 8)
        #expect(try Lifecycle(reopened).due().map(\.tenant) == ["b"])
    }

    @Test func legalHoldBlocksDueNessUntilReleased() throws {
        let acme = try test.addTenant("acme")
        _ = try test.backup(acme)
        _ = try lifecycle.offboard(acme, windowDays: 10)
        _ = try lifecycle.hold(acme, reason: "litigation 2026-17")
        test.advance(days: 30)
        #expect(try lifecycle.due().isEmpty)
        #expect(try restore(acme).tenant == "acme", "a tenant on hold stays restorable")
        let released = try lifecycle.release(acme, reason: "case closed")
        #expect(released.legalHold == nil)
        #expect(released.events.last?.detail?.contains("litigation 2026-17") == true)
        #expect(try lifecycle.due().map(\.tenant) == ["acme"])
    }

    @Test func reactivationResumesBackupsAndEndsTheWindow() throws {
        let acme = try test.addTenant("acme")
        _ = try lifecycle.offboard(acme, windowDays: 5)
        test.advance(days: 3)
        let record = try lifecycle.reactivate(acme)
        #expect(record.state == .active && record.offboardedAt == nil)
        #expect(try test.backup(acme).status == .succeeded)
        test.advance(days: 10)
        #expect(try lifecycle.due().isEmpty)
    }

    @Test func transitionsThatDoNotApplyAreRefused() throws {
        let acme = try test.addTenant("acme")
        #expect(isRefused { _ = try lifecycle.reactivate(acme) })
        #expect(isRefused { _ = try lifecycle.release(acme, reason: "none") })
        _ = try lifecycle.offboard(acme, windowDays: nil)
        #expect(isRefused { _ = try lifecycle.offboard(acme, windowDays: nil) })
        _ = try lifecycle.hold(acme, reason: "audit")
        #expect(isRefused { _ = try lifecycle.hold(acme, reason: "again") })
    }

    @Test func holdAndReleaseNeedAReason() throws {
        let acme = try test.addTenant("acme")
        #expect(throws: LetheError.self) { _ = try lifecycle.hold(acme, reason: "  ") }
    }

    @Test func everyTransitionIsRecordedInTheTenantsHistory() throws {
        let acme = try test.addTenant("acme")
        _ = try lifecycle.offboard(acme, windowDays: 3)
        _ = try lifecycle.hold(acme, reason: "r1")
        _ = try lifecycle.release(acme, reason: "r2")
        _ = try lifecycle.reactivate(acme)
        let events = try registry.record(acme).events.map(\.event)
        #expect(events == ["added", "offboarded", "hold", "released", "reactivated"])
        #expect(try registry.record(acme).events.allSatisfy { $0.actor == "tester@\(ProcessInfo.processInfo.hostName)" })
    }
}
