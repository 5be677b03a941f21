import Foundation
import LetheCore
import LetheCrypto
import LetheStore
import Testing

/// Issue 9, finding 3: the authorizer registry could be rolled back by copying an older signed
/// version to a higher number, and the service key alone could add authorizers. Now it is a
/// hash chain of versions the authorizers sign, anchored on the host.
@Suite struct AuthorizerRegistryTests {
    let test = try! TestInstallation()
    let dana = try! Ed25519.PrivateKey()
    let carl = try! Ed25519.PrivateKey()
    let olga = try! Ed25519.PrivateKey()
    var registry: AuthorizerRegistry { AuthorizerRegistry(test.installation) }
    var store: ObjectStore { test.installation.store }

    func versionKey(_ n: Int) throws -> ObjectKey { try ObjectKey("authorizers/version-\(String(format: "%06d", n)).json") }

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

    /// Version 1 with dana and carl; version 2 adds olga.
    func twoVersions() throws {
        try test.registerAuthorizers([("dana", .dpo, dana), ("carl", .officer, carl)])
        _ = try registry.proposeAdd(name: "olga", role: .officer, publicKeyPEM: try olga.publicKey.pemRepresentation)
        for key in [dana, carl, olga] { _ = try registry.sign(privateKey: key) }
        #expect(try registry.current()?.version == 2)
    }

    /// A request names a registry version; an empty chain (a store whose registry is gone) has
    /// none, which is no version rather than a trap on the range 1...0.
    @Test func anEmptyChainHasNoVersion() throws {
        let empty = try RegistryChain.verify([], serviceKey: try Ed25519.PrivateKey().publicKey) { "version \($0)" }
        #expect(empty.document(1) == nil && empty.document(0) == nil && empty.current == nil)
    }

    @Test func proposingChangesNothingUntilTheAuthorizersSign() throws {
        _ = try registry.proposeAdd(name: "dana", role: .dpo, publicKeyPEM: try dana.publicKey.pemRepresentation)
        _ = try registry.proposeAdd(name: "carl", role: .officer, publicKeyPEM: try carl.publicKey.pemRepresentation)
        #expect(try registry.current() == nil, "a proposal is not a registry")
        guard case .collected(let partial) = try registry.sign(privateKey: dana) else {
            Issue.record("one signature of two applied the first version")
            return
        }
        #expect(partial.shortfall?.contains("carl") == true)
        guard case .applied(let document, _) = try registry.sign(privateKey: carl) else {
            Issue.record("both signatures did not apply it")
            return
        }
        #expect(document.version == 1 && document.active.map(\.name) == ["dana", "carl"])
    }

    @Test func theServiceKeyAloneCannotAddAnAuthorizer() throws {
        try test.registerAuthorizers([("dana", .dpo, dana), ("carl", .officer, carl)])
        let mallory = try Ed25519.PrivateKey()
        _ = try registry.proposeAdd(name: "mallory", role: .dpo, publicKeyPEM: try mallory.publicKey.pemRepresentation)
        // The newcomer's own signature proves possession of the key, but is no quorum.
        guard case .collected(let proposal) = try registry.sign(privateKey: mallory) else {
            Issue.record("a newcomer's signature alone applied the change")
            return
        }
        #expect(proposal.shortfall?.contains("needs signatures") == true)
        #expect(try registry.current()?.authorizer(named: "mallory") == nil)
        // A stranger's signature is refused outright.
        #expect(error(.refused) { _ = try registry.sign(privateKey: try Ed25519.PrivateKey()) }.contains("neither"))
    }

    @Test func aVersionFromTheServiceKeyWithoutAuthorizersIsAnIntegrityError() throws {
        try test.registerAuthorizers([("dana", .dpo, dana), ("carl", .officer, carl)])
        let mallory = try Ed25519.PrivateKey()
        _ = try registry.proposeAdd(name: "mallory", role: .dpo, publicKeyPEM: try mallory.publicKey.pemRepresentation)
        _ = try registry.sign(privateKey: mallory)
        // O copies the proposal, with the service's signature and mallory's own, into place as version 2.
        try store.put(try versionKey(2), try store.get(try ObjectKey("authorizers/proposal.json")))
        #expect(error(.integrity) { _ = try registry.chain() }.contains("needs signatures"))
    }

    @Test func anOlderVersionCopiedToAHigherNumberIsRefused() throws {
        try twoVersions()
        _ = try registry.proposeRemove(name: "olga", reason: "left")
        for key in [dana, carl] { _ = try registry.sign(privateKey: key) }
        #expect(try registry.current()?.authorizer(named: "olga")?.isActive == false)
        // The finding: version 2 (olga active) copied over version 3 brings olga back.
        try store.put(try versionKey(3), try store.get(try versionKey(2)))
        #expect(error(.integrity) { _ = try registry.chain() }.contains("version-000003"))
        #expect(error(.integrity) { _ = try registry.chain() }.contains("version 2"), "it names the version it really is")
    }

    @Test func deletingTheNewestVersionIsARollbackTheHostDetects() throws {
        try twoVersions()
        try store.delete(try versionKey(2))
        #expect(error(.integrity) { _ = try registry.chain() }.contains("rolled back"))
    }

    @Test func aSelfMadeChainReplacingTheRealOneIsRefused() throws {
        try twoVersions()
        // S (or O) builds a complete, internally valid chain of its own keys in a second installation...
        let other = try TestInstallation()
        let m1 = try Ed25519.PrivateKey()
        let m2 = try Ed25519.PrivateKey()
        try other.registerAuthorizers([("m1", .dpo, m1), ("m2", .officer, m2)])
        for n in [1, 2] { try store.delete(try versionKey(n)) }
        try store.put(try versionKey(1), try other.installation.store.get(try versionKey(1)))
        // ...which this host refuses: the service signature is another installation's.
        #expect(error(.integrity) { _ = try registry.chain() }.contains("service's signature"))
    }

    @Test func removingAnAuthorizerMayNotLockTheRegistryOut() throws {
        try test.registerAuthorizers([("dana", .dpo, dana), ("carl", .officer, carl)])
        _ = try registry.proposeRemove(name: "carl", reason: "left")
        _ = try registry.sign(privateKey: dana)
        guard case .collected(let proposal) = try registry.sign(privateKey: carl) else {
            Issue.record("a registry that cannot meet its policy took effect")
            return
        }
        #expect(proposal.shortfall?.contains("cannot meet its own policy") == true)
        #expect(try registry.current()?.version == 1)
    }

    /// A registry whose DPO left, once the destruction policy no longer asked for one, stays
    /// valid: the default purge policy (one DPO) is not held against a version that never set
    /// it (found by review: such a history stopped loading). Setting a purge policy the active
    /// authorizers cannot meet is still refused.
    @Test func aRegistryWithoutADPOStaysValidUnlessItsPurgePolicyNeedsOne() throws {
        try test.registerAuthorizers([("dana", .dpo, dana), ("carl", .officer, carl), ("olga", .officer, olga)])
        _ = try registry.proposePolicy(required: nil, minimumDPOs: 0, gracePeriodHours: nil)
        for key in [dana, carl] { _ = try registry.sign(privateKey: key) }
        _ = try registry.proposeRemove(name: "dana", reason: "left")
        for key in [carl, olga] { _ = try registry.sign(privateKey: key) }
        #expect(try registry.current()?.version == 3)
        #expect(try AuthorizerRegistry(test.installation).chain().current?.active.count == 2)
        _ = try registry.proposePolicy(required: nil, minimumDPOs: nil, gracePeriodHours: nil, purgeRequired: 1, purgeMinimumDPOs: 1)
        _ = try registry.sign(privateKey: carl)
        guard case .collected(let proposal) = try registry.sign(privateKey: olga) else {
            Issue.record("a purge policy no active authorizer can meet took effect")
            return
        }
        #expect(proposal.shortfall?.contains("cannot meet its own policy") == true)
        #expect(try registry.current()?.version == 3)
    }

    @Test func aSignedProposalIsFrozen() throws {
        try test.registerAuthorizers([("dana", .dpo, dana), ("carl", .officer, carl)])
        _ = try registry.proposePolicy(required: 3, minimumDPOs: 1, gracePeriodHours: nil)
        _ = try registry.sign(privateKey: dana)
        #expect(error(.refused) { _ = try registry.proposePolicy(required: 1, minimumDPOs: 0, gracePeriodHours: nil) }.contains("has signatures"))
    }

    @Test func thePolicyAndGracePeriodComeFromTheRegistryIntoEveryRequest() throws {
        try test.registerAuthorizers([("dana", .dpo, dana), ("carl", .officer, carl)], policy: .init(required: 2, minimumDPOs: 1), graceHours: 5)
        let tenant = try test.addTenant("acme")
        _ = try test.backup(tenant)
        let entry = try DestructionRequests(test.installation).create(tenant: tenant, reason: .clientRequest, note: nil)
        #expect(entry.request.gracePeriodHours == 5 && entry.request.policy == .init(required: 2, minimumDPOs: 1))
        #expect(entry.request.registry.version == 1)
        #expect(try registry.chain().digests[0] == entry.request.registry.sha256)
    }
}

/// Issue 9, finding 6: a report is judged by keys the auditor holds, and O, holding the service
/// key but not the authorizers' keys, cannot make one that passes.
@Suite struct ReportForgeryTests {
    /// A destruction in an installation whose registry O filled with keys of their own making.
    @Test func aReportApprovedByTheOperatorsOwnKeysFailsAgainstTheAuthorizersTheAuditorHolds() throws {
        let test = try TestInstallation()
        let fakeDPO = try Ed25519.PrivateKey()
        let fakeOfficer = try Ed25519.PrivateKey()
        try test.registerAuthorizers([("dana", .dpo, fakeDPO), ("carl", .officer, fakeOfficer)], graceHours: 0)
        let tenant = try test.addTenant("acme")
        _ = try test.backup(tenant)
        let requests = DestructionRequests(test.installation)
        let entry = try requests.create(tenant: tenant, reason: .clientRequest, note: nil)
        _ = try requests.approve(entry.id, privateKey: fakeDPO)
        _ = try requests.approve(entry.id, privateKey: fakeOfficer)
        let stored = try DestructionExecutor(test.installation).execute(entry.id).report
        let serviceKey = try test.installation.signingKey().publicKey
        // What the auditor holds: the real authorizers' fingerprints.
        let realDana = try Ed25519.PrivateKey()
        let realCarl = try Ed25519.PrivateKey()
        let auditor = ReportVerifier.Trust(
            serviceKey: serviceKey, authorizers: [try realDana.publicKey.fingerprint, try realCarl.publicKey.fingerprint], registryGenesis: nil)
        let result = ReportVerifier.verify(json: stored.json, signature: stored.signature, trust: auditor)
        #expect(!result.isValid)
        #expect(result.checks.filter { $0.check.hasPrefix("approval by") }.allSatisfy { !$0.passed })
        // With the fake keys pinned it passes: the check is exactly the fingerprints.
        let fooled = ReportVerifier.Trust(
            serviceKey: serviceKey, authorizers: [try fakeDPO.publicKey.fingerprint, try fakeOfficer.publicKey.fingerprint], registryGenesis: nil)
        #expect(ReportVerifier.verify(json: stored.json, signature: stored.signature, trust: fooled).isValid)
        // A pinned registry genesis catches the substitution too.
        let pinnedGenesis = ReportVerifier.Trust(serviceKey: serviceKey, authorizers: nil, registryGenesis: String(repeating: "ab", count: 32))
        #expect(!ReportVerifier.verify(json: stored.json, signature: stored.signature, trust: pinnedGenesis).isValid)
    }

    @Test func aReportWhoseClaimsDifferFromTheSignedRequestFails() throws {
        let test = try TestInstallation()
        let dana = try Ed25519.PrivateKey()
        let carl = try Ed25519.PrivateKey()
        try test.registerAuthorizers([("dana", .dpo, dana), ("carl", .officer, carl)], graceHours: 0)
        let tenant = try test.addTenant("acme")
        let other = try test.addTenant("globex")
        _ = try test.backup(tenant)
        _ = try test.backup(other)
        let requests = DestructionRequests(test.installation)
        let entry = try requests.create(tenant: tenant, reason: .clientRequest, note: nil)
        _ = try requests.approve(entry.id, privateKey: dana)
        _ = try requests.approve(entry.id, privateKey: carl)
        let stored = try DestructionExecutor(test.installation).execute(entry.id).report
        let signing = try test.installation.signingKey()
        let trust = ReportVerifier.Trust(
            serviceKey: signing.publicKey, authorizers: [try dana.publicKey.fingerprint, try carl.publicKey.fingerprint], registryGenesis: nil)
        #expect(ReportVerifier.verify(json: stored.json, signature: stored.signature, trust: trust).isValid)
        // O rewrites the report to claim another tenant, and signs it with the service key.
        var forged = stored.report
        forged.tenant.id = "globex"
        forged.tenant.name = "Globex"
        let json = try forged.canonicalBytes()
        let result = ReportVerifier.verify(json: json, signature: try signing.sign(json), trust: trust)
        #expect(!result.isValid)
        #expect(result.checks.first { $0.check == "report matches the signed request" }?.passed == false)
    }
}
