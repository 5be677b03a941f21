import Foundation
import LetheCore
import LetheStore
import Testing

/// Incidents as the fold of their audit entries, the service that records detections, and
/// when failing backups become one.
@Suite struct IncidentTests {
    func entry(_ index: Int, _ operation: String, _ details: [String: String], time: String = "2026-03-01T02:00:00Z", tenant: String? = "acme") -> AuditEntry {
        AuditEntry(index: index, time: time, actor: "tester", operation: operation, tenant: tenant, details: details)
    }

    func opening(_ index: Int = 0, id: String = "inc-1") -> AuditEntry {
        entry(index, "incident.open", [
            "incident": id, "type": "integrity", "key": "integrity/verify/acme", "deadline": "2026-03-04T02:00:00Z",
            "tenants": "acme", "objects": "tenants/acme/snapshots/a: missing", "summary": "s", "source": "verify",
        ])
    }

    func isIntegrityError(_ body: () throws -> Void) -> Bool {
        do {
            try body()
            return false
        } catch let error as LetheError {
            return error.kind == .integrity
        } catch {
            return false
        }
    }

    // MARK: The fold

    @Test func anIncidentIsOpenedUpdatedAcknowledgedAndClosedByItsEntries() throws {
        let entries = [
            opening(3),
            entry(4, "backup", ["status": "succeeded"]),
            entry(5, "incident.update", ["incident": "inc-1", "tenants": "acme", "objects": "tenants/acme/packs/b: damaged"], time: "2026-03-02T02:00:00Z"),
            entry(6, "incident.ack", ["incident": "inc-1", "note": "on it"], time: "2026-03-02T03:00:00Z"),
        ]
        let folded = try Incident.fold(entries)
        try #require(folded.count == 1)
        let incident = folded[0]
        #expect(incident.type == .integrity && incident.status == .acknowledged && incident.detected == "2026-03-01T02:00:00Z")
        #expect(incident.detections == 2 && incident.lastDetected == "2026-03-02T02:00:00Z")
        #expect(incident.objects == ["tenants/acme/packs/b: damaged", "tenants/acme/snapshots/a: missing"])
        #expect(incident.acknowledged?.at == "2026-03-02T03:00:00Z" && incident.acknowledged?.by == "tester" && incident.acknowledged?.note == "on it")
        #expect(incident.entries == [3, 5, 6])
        let closed = try Incident.fold(entries + [entry(7, "incident.close", ["incident": "inc-1", "note": "fixed"])])
        #expect(closed[0].status == .closed && closed[0].closed?.note == "fixed" && !closed[0].status.isRunning)
    }

    @Test func entriesThatDoNotFitTheFoldAreIntegrityErrors() {
        #expect(isIntegrityError { _ = try Incident.fold([entry(0, "incident.update", ["incident": "inc-9"])]) })
        #expect(isIntegrityError { _ = try Incident.fold([opening(0), opening(1)]) })
        #expect(isIntegrityError { _ = try Incident.fold([entry(0, "incident.open", ["incident": "inc-1", "type": "weather", "key": "k", "deadline": "d"])]) })
        #expect(isIntegrityError { _ = try Incident.fold([entry(0, "incident.ack", [:])]) })
        #expect(isIntegrityError {
            _ = try Incident.fold([opening(0), entry(1, "incident.close", ["incident": "inc-1"]), entry(2, "incident.ack", ["incident": "inc-1"])])
        })
    }

    @Test func hoursLeftCountDownToTheDeadlineAndBelowZeroAfterIt() throws {
        let incident = try Incident.fold([opening()])[0]
        #expect(incident.hoursLeft(at: Timestamp.parse("2026-03-01T02:00:00Z")!) == 72)
        #expect(incident.hoursLeft(at: Timestamp.parse("2026-03-01T12:30:00Z")!) == 61.5)
        #expect(incident.hoursLeft(at: Timestamp.parse("2026-03-05T02:00:00Z")!) == -24)
    }

    // MARK: The service

    @Test func detectingTheSameProblemTwiceUpdatesOneIncidentAndADifferentOneOpensAnother() throws {
        let test = try TestInstallation()
        try test.addTenant("acme")
        let incidents = Incidents(test.installation)
        let detection = Incidents.Detection(
            type: .availability, key: "availability/backup/acme", summary: "failing", source: "nightly", tenants: ["acme"], objects: ["e1"])
        let first = try incidents.detect(detection)
        #expect(first.opened && first.incident.deadline == Timestamp.format(TestInstallation.start.addingTimeInterval(72 * 3600)))
        test.advance(days: 1)
        var again = detection
        again.objects = ["e2"]
        let second = try incidents.detect(again)
        #expect(!second.opened && second.incident.id == first.incident.id && second.incident.objects == ["e1", "e2"])
        #expect(second.incident.deadline == first.incident.deadline)
        var other = detection
        other.key = "availability/backup/globex"
        other.tenants = ["globex", "acme"]
        #expect(try incidents.detect(other).opened)
        #expect(try incidents.running().count == 2)
        // Entries about one tenant are filed under it; about several, under none.
        let log = try AuditTrail(test.installation).history().entries.filter { $0.operation.hasPrefix("incident.") }
        #expect(log.map(\.tenant) == ["acme", "acme", nil])
    }

    @Test func objectsBeyondTheLimitAreSummarizedSoTheEntryFits() throws {
        let test = try TestInstallation()
        let many = (0..<5000).map { "tenants/acme/packs/\($0): " + String(repeating: "x", count: 400) }
        let outcome = try Incidents(test.installation).detect(Incidents.Detection(
            type: .integrity, key: "integrity/verify/acme", summary: "wrecked", source: "verify", tenants: ["acme"], objects: many))
        #expect(outcome.incident.objects.count == 51)
        #expect(outcome.incident.objects.contains("… and 4950 more"))
        #expect(outcome.incident.objects.allSatisfy { $0.count <= 300 })
    }

    @Test func ackAndCloseNeedANoteAndTheRightState() throws {
        let test = try TestInstallation()
        let incidents = Incidents(test.installation)
        let id = try incidents.detect(Incidents.Detection(
            type: .integrity, key: "k", summary: "s", source: "verify", tenants: [], objects: [])).incident.id
        #expect(throws: LetheError.usage("give a --note saying what was done")) { try incidents.acknowledge(id, note: " ") }
        #expect(try incidents.acknowledge(id, note: "on it").status == .acknowledged)
        #expect(throws: LetheError.self) { try incidents.acknowledge(id, note: "again") }
        #expect(try incidents.close(id, note: "done").status == .closed)
        #expect(throws: LetheError.self) { try incidents.close(id, note: "again") }
        #expect(throws: LetheError.self) { try incidents.incident("inc-none") }
    }

    // MARK: Failing backups

    @Test func aStreakCountsFailedNightsSinceTheLastBackupThatDidNotFail() {
        let entries = [
            entry(0, "backup", ["status": "failed", "error": "old"], time: "2026-03-01T02:00:00Z"),
            entry(1, "backup", ["status": "succeeded"], time: "2026-03-02T02:00:00Z"),
            entry(2, "backup", ["status": "failed", "error": "gone"], time: "2026-03-03T02:00:00Z"),
            entry(3, "backup", ["status": "failed", "error": "gone"], time: "2026-03-03T09:00:00Z"),
            entry(4, "backup", ["status": "succeeded"], time: "2026-03-04T02:00:00Z", tenant: "globex"),
            entry(5, "backup", ["status": "failed", "error": "still gone"], time: "2026-03-04T02:00:00Z"),
        ]
        let streak = BackupFailures.streak(of: "acme", in: entries)
        #expect(streak.nights == 2, "two runs on 3 March are one night; 1 March is before a success")
        #expect(streak.errors == ["still gone", "gone"])
        #expect(BackupFailures.detections(for: ["acme"], in: entries, nights: 3).isEmpty)
        #expect(BackupFailures.detections(for: ["acme"], in: entries, nights: 2).map(\.key) == ["availability/backup/acme"])
        let partial = entries + [entry(6, "backup", ["status": "partial"], time: "2026-03-05T02:00:00Z")]
        #expect(BackupFailures.streak(of: "acme", in: partial).nights == 0, "a partial backup made a snapshot")
    }
}
