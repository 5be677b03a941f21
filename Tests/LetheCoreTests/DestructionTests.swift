import Foundation
import LetheCore
import LetheCrypto
import LetheKeys
import LetheRepository
import LetheStore
import Testing

/// Destruction requests, approvals and their refusals, the grace period, execution and the
/// report — in process, with a clock the test moves.
@Suite struct DestructionTests {
    let test = try! TestInstallation()
    let dpo = try! Ed25519.PrivateKey()
    let officer = try! Ed25519.PrivateKey()
    var requests: DestructionRequests { DestructionRequests(test.installation) }

    init() throws {
        try test.registerAuthorizers([("dana", .dpo, dpo), ("carl", .officer, officer)])
    }

    var trust: ReportVerifier.Trust {
        get throws {
            ReportVerifier.Trust(
                serviceKey: try test.installation.signingKey().publicKey,
                authorizers: [try dpo.publicKey.fingerprint, try officer.publicKey.fingerprint], registryGenesis: nil)
        }
    }

    /// A backed-up tenant, offboarded, past its window.
    func dueTenant(_ name: String = "acme") throws -> TenantID {
        let tenant = try test.addTenant(name)
        #expect(try test.backup(tenant).status == .succeeded)
        _ = try Lifecycle(test.installation).offboard(tenant, windowDays: 1)
        test.advance(days: 2)
        return tenant
    }

    func refusal(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as LetheError where error.kind == .refused {
            return error.message
        } catch {
            return "unexpected \(error)"
        }
    }

    func approvedRequest(_ tenant: TenantID) throws -> DestructionRequests.Entry {
        let entry = try requests.create(tenant: tenant, reason: .retentionExpired, note: nil)
        _ = try requests.approve(entry.id, privateKey: dpo)
        return try requests.approve(entry.id, authorizerName: "carl", signature: try officer.signature(for: entry.bytes))
    }

    // MARK: Requests

    @Test func requestForATenantOnHoldIsRefused() throws {
        let tenant = try dueTenant()
        _ = try Lifecycle(test.installation).hold(tenant, reason: "litigation")
        #expect(refusal { _ = try requests.create(tenant: tenant, reason: .clientRequest, note: nil) }?.contains("legal hold") == true)
        #expect(try requests.list().isEmpty)
    }

    @Test func retentionExpiredInsideTheWindowIsRefusedButAClientRequestIsNot() throws {
        let tenant = try test.addTenant("acme")
        _ = try test.backup(tenant)
        _ = try Lifecycle(test.installation).offboard(tenant, windowDays: 90)
        #expect(refusal { _ = try requests.create(tenant: tenant, reason: .retentionExpired, note: nil) }?.contains("window") == true)
        #expect(try requests.create(tenant: tenant, reason: .clientRequest, note: "asked by email").status == .pending)
    }

    @Test func requestInventoriesEveryObjectOfTheTenant() throws {
        let tenant = try dueTenant()
        let entry = try requests.create(tenant: tenant, reason: .retentionExpired, note: nil)
        let objects = try test.installation.store.list(prefix: tenant.storePrefix)
        #expect(entry.request.inventory.objects.map(\.key) == objects.map(\.key.rawValue))
        for (item, object) in zip(entry.request.inventory.objects, objects) {
            #expect(item.size == object.size)
            #expect(item.sha256 == Hex.encode(try SHA256.hash(try test.installation.store.get(object.key))))
        }
        #expect(entry.bytes == (try entry.request.canonicalBytes()))
    }

    @Test func aSecondOpenRequestForTheSameTenantIsRefused() throws {
        let tenant = try dueTenant()
        _ = try requests.create(tenant: tenant, reason: .retentionExpired, note: nil)
        #expect(refusal { _ = try requests.create(tenant: tenant, reason: .retentionExpired, note: nil) } != nil)
    }

    @Test func anOpenRequestBlocksBackupsOfTheTenant() throws {
        let tenant = try test.addTenant("acme")
        _ = try test.backup(tenant)
        _ = try requests.create(tenant: tenant, reason: .clientRequest, note: nil)
        let result = try test.backup(tenant)
        #expect(result.status == .failed && result.error?.contains("destruction request") == true)
    }

    // MARK: Approvals

    @Test func approvalsRefusedWithoutChangingAnything() throws {
        let tenant = try dueTenant()
        let entry = try requests.create(tenant: tenant, reason: .retentionExpired, note: nil)
        let stranger = try Ed25519.PrivateKey()
        #expect(refusal { _ = try requests.approve(entry.id, privateKey: stranger) } != nil, "an unregistered key")
        #expect(refusal { _ = try requests.approve(entry.id, authorizerName: "mallory", signature: try stranger.signature(for: entry.bytes)) } != nil,
                "an unregistered name")
        #expect(refusal { _ = try requests.approve(entry.id, authorizerName: "dana", signature: try dpo.signature(for: Array("other bytes".utf8))) } != nil,
                "a signature over other bytes")
        #expect(refusal { _ = try requests.approve(entry.id, authorizerName: "dana", signature: try officer.signature(for: entry.bytes)) } != nil,
                "a signature by another authorizer's key")
        #expect(refusal { _ = try requests.approve(entry.id, authorizerName: "dana", signature: [UInt8](repeating: 1, count: 63)) }?
            .contains("64 bytes") == true, "a signature of the wrong length says so")
        #expect(try requests.load(entry.id).state.approvals.isEmpty)
        _ = try requests.approve(entry.id, privateKey: dpo)
        #expect(refusal { _ = try requests.approve(entry.id, authorizerName: "dana", signature: try dpo.signature(for: entry.bytes)) } != nil,
                "the same authorizer twice")
        #expect(try requests.load(entry.id).state.approvals.count == 1)
        #expect(try requests.load(entry.id).status == .pending)
    }

    @Test func approvalIsRefusedWhenTheInventoryChangedSinceTheRequest() throws {
        let tenant = try dueTenant()
        let entry = try requests.create(tenant: tenant, reason: .retentionExpired, note: nil)
        try test.installation.store.put(try tenant.storePrefix.appending("snapshots").appending(String(repeating: "ab", count: 32)), [1, 2, 3])
        #expect(refusal { _ = try requests.approve(entry.id, privateKey: dpo) }?.contains("changed") == true)
        #expect(try requests.load(entry.id).state.approvals.isEmpty)
    }

    @Test func removedAuthorizerCanNoLongerApprove() throws {
        let tenant = try dueTenant()
        let entry = try requests.create(tenant: tenant, reason: .retentionExpired, note: nil)
        let registry = AuthorizerRegistry(test.installation)
        let third = try Ed25519.PrivateKey()
        // Removing carl must keep the policy satisfiable: olga joins in the same version.
        _ = try registry.proposeAdd(name: "olga", role: .officer, publicKeyPEM: try third.publicKey.pemRepresentation)
        _ = try registry.proposeRemove(name: "carl", reason: "left the company")
        for key in [dpo, officer, third] { _ = try registry.sign(privateKey: key) }
        #expect(try registry.current()?.version == 2)
        #expect(refusal { _ = try requests.approve(entry.id, privateKey: officer) } != nil)
        #expect(try registry.current()?.authorizer(named: "carl")?.removed != nil, "removal is recorded, not erased")
    }

    @Test func twoApprovalsWithADPOStartTheGracePeriod() throws {
        let tenant = try dueTenant()
        let entry = try approvedRequest(tenant)
        guard case .approved(let approved) = entry.state.phase else {
            Issue.record("the request is \(entry.status), not approved")
            return
        }
        #expect(approved.executableAfter == Timestamp.format(test.clock.now().addingTimeInterval(24 * 3600)))
    }

    // MARK: Grace, cancellation, execution

    @Test func executionWaitsForTheGracePeriodAndCancellationWorksUntilThen() throws {
        let tenant = try dueTenant()
        let entry = try approvedRequest(tenant)
        #expect(refusal { _ = try DestructionExecutor(test.installation).execute(entry.id) }?.contains("grace") == true)
        #expect(try test.installation.keystore().keyInfo(for: tenant) != nil, "nothing touched during the grace period")
        _ = try requests.cancel(entry.id, reason: "client came back")
        #expect(try requests.load(entry.id).status == .cancelled)
        #expect(refusal { _ = try DestructionExecutor(test.installation).execute(entry.id) } != nil)
        #expect(try test.backup(tenant).status == .failed, "still offboarded, but no longer blocked by the request")
        _ = try Lifecycle(test.installation).reactivate(tenant)
        #expect(try test.backup(tenant).status == .succeeded)
    }

    @Test func executionDestroysVerifiesAndReports() throws {
        let tenant = try dueTenant()
        let other = try test.addTenant("globex")
        _ = try test.backup(other)
        let entry = try approvedRequest(tenant)
        test.advance(days: 1.1)
        let outcome = try DestructionExecutor(test.installation).execute(entry.id)
        #expect(outcome.performed)
        let report = outcome.report.report
        #expect(report.verification.count == 6 && report.verification.allSatisfy(\.passed))
        #expect(try test.installation.store.list(prefix: tenant.storePrefix).isEmpty)
        #expect(try test.installation.keystore().keyInfo(for: tenant) == nil)
        #expect(report.keyEvidence.kekEpochAfter == report.keyEvidence.kekEpochBefore + 1)
        #expect(ReportVerifier.verify(json: outcome.report.json, signature: outcome.report.signature, trust: try trust).isValid)
        // The other tenant is untouched and still restores.
        #expect(try RestoreService(test.installation).restore(
            tenant: other, snapshot: nil, options: Restorer.Options(target: "\(test.root)/r")).summary.files == 2)
        // Restores and backups of the destroyed tenant are refused, naming the report.
        #expect(refusal { _ = try TenantRegistry(test.installation).record(tenant) }?.contains(report.reportID) == true)
        // A second execution changes nothing.
        let again = try DestructionExecutor(test.installation).execute(entry.id)
        #expect(!again.performed && again.report.json == outcome.report.json)
    }

    @Test func anEmptyLockFolderLeftOfTheTenantFailsVerificationUntilItIsGone() throws {
        let tenant = try dueTenant()
        let entry = try approvedRequest(tenant)
        test.advance(days: 1.1)
        // What a crash between removing a lock and its folder leaves. (The execution's own lock
        // would take an empty locks/acme/ away when released, so the leftover is one level down.)
        let store = try #require(test.installation.store as? LocalStore)
        try FileSystem.makeDirectories("\(store.root)/locks/\(tenant)/stale")
        do {
            _ = try DestructionExecutor(test.installation).execute(entry.id)
            Issue.record("a destruction leaving locks/\(tenant)/ verified")
        } catch let error as LetheError {
            #expect(error.kind == .integrity && error.message.contains("locks/\(tenant)/"), "\(error.message)")
        }
        try FileSystem.removeTree("\(store.root)/locks/\(tenant)")
        let outcome = try DestructionExecutor(test.installation).execute(entry.id)
        #expect(outcome.performed && outcome.report.report.verification.allSatisfy(\.passed))
    }

    @Test func reportAlteredByOneByteOrSignedByAnotherKeyFailsVerification() throws {
        let tenant = try dueTenant()
        let entry = try approvedRequest(tenant)
        test.advance(days: 1.1)
        let stored = try DestructionExecutor(test.installation).execute(entry.id).report
        var altered = stored.json
        let index = altered.firstIndex(of: UInt8(ascii: "7")) ?? altered.count / 2
        altered[index] = altered[index] == UInt8(ascii: "7") ? UInt8(ascii: "8") : UInt8(ascii: "7")
        #expect(!ReportVerifier.verify(json: altered, signature: stored.signature, trust: try trust).isValid)
        let otherKey = ReportVerifier.Trust(serviceKey: try Ed25519.PrivateKey().publicKey, authorizers: try trust.authorizers, registryGenesis: nil)
        #expect(!ReportVerifier.verify(json: stored.json, signature: stored.signature, trust: otherKey).isValid)
    }
}
