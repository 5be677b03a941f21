import Foundation
import LetheCore
import LetheCrypto
import LetheKeys
import LetheRepository
import LetheStore
import Testing

/// Issue 9, findings 1 and 2: whoever writes the store (S) or the home (H) edits the files a
/// destruction is decided from. Each attack must end in an integrity error or a refusal that
/// names the object, with nothing destroyed.
@Suite struct DestructionTrustTests {
    let test = try! TestInstallation()
    let dpo = try! Ed25519.PrivateKey()
    let officer = try! Ed25519.PrivateKey()
    let secondOfficer = try! Ed25519.PrivateKey()
    var requests: DestructionRequests { DestructionRequests(test.installation) }
    var store: ObjectStore { test.installation.store }

    init() throws {
        try test.registerAuthorizers([("dana", .dpo, dpo), ("carl", .officer, officer), ("olga", .officer, secondOfficer)])
    }

    func dueTenant(_ name: String = "acme") throws -> TenantID {
        let tenant = try test.addTenant(name)
        #expect(try test.backup(tenant).status == .succeeded)
        _ = try Lifecycle(test.installation).offboard(tenant, windowDays: 1)
        test.advance(days: 2)
        return tenant
    }

    func stateKey(_ id: String) throws -> ObjectKey { try ObjectKey("destruction/\(id)/state.json") }
    func requestKey(_ id: String) throws -> ObjectKey { try ObjectKey("destruction/\(id)/request.json") }

    /// The message of the LetheError of `kind` that `body` throws, or a description of what
    /// happened instead (which fails the caller's expectation).
    func error(_ kind: LetheError.Kind, _ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch let error as LetheError where error.kind == kind {
            return error.message
        } catch {
            return "unexpected \(error)"
        }
    }

    /// The tenant still has its key and every object it had.
    func untouched(_ tenant: TenantID, objects: Int) throws -> Bool {
        try test.installation.keystore().keyInfo(for: tenant) != nil && store.list(prefix: tenant.storePrefix).count == objects
    }

    /// Edits the state document inside `state.json` as an attacker without the service key
    /// would: decode, change, re-encode, keeping the old signature.
    func tamperState(_ id: String, _ edit: (String) -> String) throws {
        var envelope = try #require(try JSONSerialization.jsonObject(with: Data(try store.get(try stateKey(id)))) as? [String: Any])
        let document = String(decoding: try #require(Data(base64Encoded: envelope["document"] as? String ?? "")), as: UTF8.self)
        let edited = edit(document)
        #expect(edited != document, "the edit changes something")
        envelope["document"] = Data(edited.utf8).base64EncodedString()
        try store.put(try stateKey(id), Array(try JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys])))
    }

    /// A state document signed by the service key, as Lethe itself writes them.
    func signedState(_ json: [String: Any], for id: String) throws -> [UInt8] {
        let document = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        return try SignedObject.sign(Array(document), context: try stateKey(id).rawValue, key: try test.installation.signingKey()).encoded()
    }

    // MARK: Finding 1: an unauthenticated state.json drove execution

    @Test func aStateEditedToExecutingIsAnIntegrityErrorAndDestroysNothing() throws {
        let tenant = try dueTenant()
        let entry = try requests.create(tenant: tenant, reason: .retentionExpired, note: nil)
        let objects = try store.list(prefix: tenant.storePrefix).count
        // The edit an attacker makes: status executing, no approvals.
        try tamperState(entry.id) { $0.replacingOccurrences(of: "\"pending\"", with: "\"executing\"") }
        #expect(error(.integrity) { _ = try DestructionExecutor(test.installation).execute(entry.id) }.contains("state.json"))
        let nightly = try NightlyRun(test.installation).run(.init())
        #expect(nightly.integrityViolations >= 1 && nightly.destructionsExecuted.isEmpty)
        #expect(try untouched(tenant, objects: objects))
    }

    @Test func aHandWrittenRequestAndStateForALiveTenantAreRefused() throws {
        let tenant = try test.addTenant("globex")
        _ = try test.backup(tenant)
        let objects = try store.list(prefix: tenant.storePrefix).count
        // Copy a genuine request's bytes, rewritten for the live tenant; the state is even
        // signed (as if the attacker had it right), but the audit log never recorded it.
        let victim = try dueTenant()
        let genuine = try requests.create(tenant: victim, reason: .retentionExpired, note: nil)
        let id = "dr-20260113-0badc0de"
        var request = genuine.request
        request.id = id
        request.tenant = tenant.rawValue
        request.inventory = try Inventory.take(of: tenant, in: store)
        let bytes = try request.canonicalBytes()
        try store.put(try requestKey(id), bytes)
        try store.put(try stateKey(id), try signedState([
            "request": id, "tenant": tenant.rawValue, "requestSHA256": Hex.encode(try SHA256.hash(bytes)), "sequence": 9,
            "approvals": [], "status": "approved",
            "approved": ["approvedAt": "2026-01-10T00:00:00Z", "executableAfter": "2026-01-10T00:00:00Z"],
        ], for: id))
        #expect(error(.integrity) { _ = try DestructionExecutor(test.installation).execute(id) }.contains("not in the audit log"))
        _ = try NightlyRun(test.installation).run(.init())
        #expect(try untouched(tenant, objects: objects))
        // Cancelling it removes it, and says so in the log.
        #expect(try requests.cancel(id, reason: "not ours") == nil)
        #expect(try AuditTrail(test.installation).history().entries.last?.operation == "destroy.discard")
    }

    @Test func aStateSignedForAnotherRequestIsRefused() throws {
        let tenant = try dueTenant()
        let first = try requests.create(tenant: tenant, reason: .retentionExpired, note: nil)
        _ = try requests.cancel(first.id, reason: "redo")
        let second = try requests.create(tenant: tenant, reason: .clientRequest, note: nil)
        // Moving a genuine, signed state to another request's place.
        try store.put(try stateKey(second.id), try store.get(try stateKey(first.id)))
        #expect(error(.integrity) { _ = try requests.load(second.id) }.contains("signed for"))
    }

    // MARK: Finding 2: roles, cancellation and grace came from that file

    @Test func twoOfficersNeverMeetAPolicyThatNeedsADPO() throws {
        let tenant = try dueTenant()
        let entry = try requests.create(tenant: tenant, reason: .retentionExpired, note: nil)
        _ = try requests.approve(entry.id, privateKey: officer)
        let after = try requests.approve(entry.id, privateKey: secondOfficer)
        #expect(after.status == .pending, "roles come from the registry version the request names")
        // Relabelling an approval's role in state.json breaks its signature.
        try tamperState(entry.id) { $0.replacingOccurrences(of: "\"officer\"", with: "\"dpo\"") }
        test.advance(days: 2)
        #expect(error(.integrity) { _ = try DestructionExecutor(test.installation).execute(entry.id) }.contains("state.json"))
        #expect(try test.installation.keystore().keyInfo(for: tenant) != nil)
    }

    @Test func aCancellationRolledBackToTheApprovedStateStaysCancelled() throws {
        let tenant = try dueTenant()
        let entry = try requests.create(tenant: tenant, reason: .retentionExpired, note: nil)
        _ = try requests.approve(entry.id, privateKey: dpo)
        _ = try requests.approve(entry.id, privateKey: officer)
        let approvedCopy = try store.get(try stateKey(entry.id))
        _ = try requests.cancel(entry.id, reason: "the client came back")
        // S puts back the genuine, signed state from before the cancellation.
        try store.put(try stateKey(entry.id), approvedCopy)
        test.advance(days: 2)
        #expect(error(.integrity) { _ = try DestructionExecutor(test.installation).execute(entry.id) }.contains("rolled back"))
        let nightly = try NightlyRun(test.installation).run(.init())
        #expect(nightly.destructionsExecuted.isEmpty && nightly.integrityViolations >= 1)
        #expect(try test.installation.keystore().keyInfo(for: tenant) != nil)
        // Cancelling again repairs the copy from the log, which says it was cancelled: final.
        #expect(error(.refused) { _ = try requests.cancel(entry.id, reason: "again") }.contains("cancelled"))
        #expect(try requests.load(entry.id).status == .cancelled)
    }

    @Test func theGracePeriodComesFromTheLoggedApprovalTimes() throws {
        let tenant = try dueTenant()
        let entry = try requests.create(tenant: tenant, reason: .retentionExpired, note: nil)
        _ = try requests.approve(entry.id, privateKey: dpo)
        test.advance(days: 0.5)
        _ = try requests.approve(entry.id, privateKey: officer)
        test.advance(days: 0.9)
        // 21.6 hours after the approval that met the policy: still inside 24 hours.
        #expect(error(.refused) { _ = try DestructionExecutor(test.installation).execute(entry.id) }.contains("grace period"))
        test.advance(days: 0.2)
        #expect(try DestructionExecutor(test.installation).execute(entry.id).performed)
    }

    @Test func aStateOneStepAheadOfTheLogIsACrashAndIsRepaired() throws {
        let tenant = try dueTenant()
        let entry = try requests.create(tenant: tenant, reason: .retentionExpired, note: nil)
        // What a crash between writing the state and logging the approval leaves: a genuine
        // state one step ahead. The approval never happened.
        try store.put(try stateKey(entry.id), try signedState([
            "request": entry.id, "tenant": tenant.rawValue, "requestSHA256": entry.state.requestSHA256, "sequence": 2,
            "approvals": [["authorizer": "dana", "role": "dpo", "keyFingerprint": try dpo.publicKey.fingerprint,
                           "signature": Data(try dpo.signature(for: entry.bytes)).base64EncodedString(), "time": test.installation.nowText]],
            "status": "pending",
        ], for: entry.id))
        let repaired = try requests.authenticated(entry.id)
        #expect(repaired.state.approvals.isEmpty && repaired.state.sequence == 1)
        #expect(try requests.load(entry.id).state.approvals.isEmpty, "state.json was rewritten from the log")
    }

    @Test func aDamagedRequestIsListedAndBlocksItsTenantNeverSilentlyDropped() throws {
        let tenant = try dueTenant()
        let entry = try requests.create(tenant: tenant, reason: .retentionExpired, note: nil)
        try store.put(try stateKey(entry.id), Array("{}".utf8))
        let listed = try requests.list()
        #expect(listed.count == 1 && !listed[0].isReadable)
        #expect(error(.integrity) { _ = try requests.open(for: tenant) }.contains(entry.id))
        // Cancelling is how it is unblocked.
        #expect(try requests.cancel(entry.id, reason: "damaged")?.status == .cancelled)
        #expect(try requests.open(for: tenant) == nil)
    }

    // MARK: Finding 6: the report tells the truth about the key and the request

    @Test func theReportCarriesTheCommitmentOfTheKeyActuallyRevokedAndMatchesTheRequest() throws {
        let tenant = try dueTenant()
        let key = try #require(try test.installation.keystore().keyInfo(for: tenant))
        let entry = try requests.create(tenant: tenant, reason: .retentionExpired, note: nil)
        _ = try requests.approve(entry.id, privateKey: dpo)
        _ = try requests.approve(entry.id, privateKey: officer)
        test.advance(days: 1.1)
        let report = try DestructionExecutor(test.installation).execute(entry.id).report
        #expect(report.report.keyEvidence.dekCommitment == key.commitment)
        #expect(report.report.keyEvidence.dekID == key.dekID)
        #expect(report.report.registry.version == 1 && report.report.registry.chain.count == 1)
    }
}
