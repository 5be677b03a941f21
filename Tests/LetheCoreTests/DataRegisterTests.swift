import Foundation
import LetheCore
import LetheCrypto
import LetheRepository
import LetheStore
import Testing

/// A tenant's register entry: its vocabulary and checks, partial changes, the sealed record
/// it lives in, the audit entry of each change, and the export.
@Suite struct DataRegisterTests {
    func register(_ categories: [String] = ["contact-data"], purposes: [String] = ["billing"]) -> DataRegister {
        DataRegister(dataCategories: categories, purposes: purposes, updated: "2026-03-01T02:00:00Z", updatedBy: "tester")
    }

    @Test func theVocabularyAndOtherDescriptionsAreAcceptedAndNothingElse() {
        #expect(register(DataRegister.vocabulary.map(\.name) + ["other:shoe sizes"]).problem() == nil)
        #expect(register(["shoe-sizes"]).problem()?.contains("unknown data category \"shoe-sizes\"") == true)
        #expect(register(["other: "]).problem() != nil)
        #expect(register(purposes: ["two\nlines"]).problem()?.contains("line break") == true)
        #expect(register(purposes: ["a", "a"]).problem()?.contains("twice") == true)
        #expect(register(purposes: [String(repeating: "p", count: 501)]).problem()?.contains("500 bytes") == true)
        #expect(register(purposes: [" "]).problem()?.contains("empty") == true)
    }

    @Test func fieldsReplaceOnlyWhatTheyGiveAndStampTheChange() throws {
        var base = register()
        base.subProcessors = ["Hetzner"]
        let changed = try DataRegister.Fields(purposes: ["payroll"], retentionBasis: "contract §7")
            .applied(to: base, time: "2026-03-02T02:00:00Z", actor: "dana")
        #expect(changed.purposes == ["payroll"] && changed.dataCategories == ["contact-data"] && changed.subProcessors == ["Hetzner"])
        #expect(changed.retentionBasis == "contract §7" && changed.updated == "2026-03-02T02:00:00Z" && changed.updatedBy == "dana")
        let cleared = try DataRegister.Fields(retentionBasis: "").applied(to: changed, time: "t", actor: "a")
        #expect(cleared.retentionBasis == nil)
        #expect(throws: LetheError.self) { try DataRegister.Fields(dataCategories: ["nope"]).applied(to: nil, time: "t", actor: "a") }
        #expect(changed.sameContent(as: try DataRegister.Fields(purposes: ["payroll"]).applied(to: changed, time: "later", actor: "someone")))
    }

    @Test func setSealsTheEntryInTheRecordAndLogsItsDigest() throws {
        let test = try TestInstallation()
        let acme = try test.addTenant("acme")
        let register = TenantRegister(test.installation)
        let view = try register.set(acme, DataRegister.Fields(dataCategories: ["financial"], purposes: ["billing", "dunning"]))
        #expect(view.storageLocation == test.installation.store.location)
        #expect(try TenantRegistry(test.installation).record(acme).register == view.register)
        let logged = try #require(try AuditTrail(test.installation).history().entries.last)
        #expect(logged.operation == "tenant.register" && logged.tenant == "acme")
        #expect(logged.details["sha256"] == Hex.encode(try SHA256.hash(try view.register!.canonicalBytes())))
        // The same again: nothing logged.
        let size = try AuditTrail(test.installation).history().size
        _ = try register.set(acme, DataRegister.Fields(purposes: ["billing", "dunning"]))
        #expect(try AuditTrail(test.installation).history().size == size)
        #expect(throws: LetheError.self) { try register.set(acme, DataRegister.Fields()) }
        let rows = try register.export()
        #expect(rows.map(\.purpose) == ["billing", "dunning"] && rows.allSatisfy { $0.dataCategories == ["financial"] })
    }

    @Test func csvQuotesWhatNeedsQuotingAndDisarmsFormulas() throws {
        let test = try TestInstallation()
        let acme = try TenantID("acme")
        try FileSystem.makeDirectories("\(test.root)/data/acme")
        _ = try TenantRegistry(test.installation).add(
            id: acme, name: "Acme, \"the\" GmbH", sources: [TenantSource(kind: .directory, location: "\(test.root)/data/acme")])
        _ = try TenantRegister(test.installation).set(acme, DataRegister.Fields(
            dataCategories: ["contact-data", "financial"], purposes: ["=SUM(A1)"], retentionBasis: "-10 years"))
        let lines = TenantRegister.csv(try TenantRegister(test.installation).export()).components(separatedBy: "\r\n")
        #expect(lines[0] == TenantRegister.Row.csvHeader.joined(separator: ","))
        #expect(lines[1].hasPrefix("acme,\"Acme, \"\"the\"\" GmbH\",active,'=SUM(A1),contact-data; financial,no,,'-10 years,,"))
        #expect(lines.count == 3 && lines[2].isEmpty)
    }

    @Test func anExtractsPeriodIsInclusiveAndADateAloneCoversTheDay() {
        #expect(AuditExtract.inPeriod("2026-03-02T23:59:59Z", from: "2026-03-02", to: "2026-03-02"))
        #expect(!AuditExtract.inPeriod("2026-03-03T00:00:00Z", from: "2026-03-02", to: "2026-03-02"))
        #expect(!AuditExtract.inPeriod("2026-03-01T23:59:59Z", from: "2026-03-02", to: nil))
        #expect(AuditExtract.inPeriod("2026-03-02T10:00:00Z", from: nil, to: "2026-03-02T10:00:00Z"))
        #expect(!AuditExtract.inPeriod("2026-03-02T10:00:01Z", from: nil, to: "2026-03-02T10:00:00Z"))
        #expect(!AuditExtract.inPeriod("not a time", from: nil, to: nil))
    }
}
