import Foundation
import LetheCrypto
import LetheKeys
import LetheRepository
import LetheStore

/// Destruction requests in the store, under `destruction/<id>/`: `request.json` (the exact
/// bytes the authorizers sign, never rewritten), `state.json` (a copy of the state, signed by
/// the service) and, once execution starts, `sample` (a ciphertext kept to prove it no longer
/// decrypts).
///
/// The truth about a request is its audit-log entries: `destroy.request` records the SHA-256
/// of its bytes, every approval its signature, then cancellation or each execution step.
/// Listings read the signed `state.json`, which S cannot forge but could replace with an older
/// copy; every decision (approve, cancel, execute) therefore folds the request's entries from
/// the proven log and requires `state.json` to agree. A state written just before a crash, one
/// step ahead of the log, is repaired; any other disagreement is an integrity error that names
/// the object and blocks the request (cancelling it stays possible).
public struct DestructionRequests: Sendable {
    let installation: Installation
    static let prefix = try! ObjectKey("destruction")

    public init(_ installation: Installation) {
        self.installation = installation
    }

    static func requestKey(_ id: String) -> ObjectKey { try! prefix.appending(id).appending("request.json") }
    static func stateKey(_ id: String) -> ObjectKey { try! prefix.appending(id).appending("state.json") }
    static func sampleKey(_ id: String) -> ObjectKey { try! prefix.appending(id).appending("sample") }

    /// A request with its state.
    public struct Entry: Sendable {
        public let id: String
        public let bytes: [UInt8]
        public let request: DestructionRequest
        public let state: DestructionState
        public var status: DestructionStatus { state.status }
    }

    /// A request as a listing shows it: readable and signed, or damaged, never left out.
    public enum Listed: Sendable {
        case entry(Entry)
        case damaged(id: String, tenant: String?, problem: LetheError)

        public var isReadable: Bool {
            if case .entry = self { return true }
            return false
        }
    }

    // MARK: Reading

    public func ids() throws -> [String] {
        try installation.store.children(of: DestructionRequests.prefix).filter(DestructionRequests.isRequestID)
    }

    static func isRequestID(_ id: String) -> Bool {
        id.hasPrefix("dr-") && (try? ObjectKey("destruction/\(id)")) != nil
    }

    /// Every request, oldest first; damaged ones are listed with what is wrong.
    public func list() throws -> [Listed] {
        try ids().map { id in
            do {
                return .entry(try load(id))
            } catch let problem as LetheError where problem.kind == .integrity {
                let tenant = (try? installation.store.get(DestructionRequests.requestKey(id))).flatMap(DestructionRequest.decode)?.tenant
                return .damaged(id: id, tenant: tenant, problem: problem)
            }
        }.sorted { first, second in
            func key(_ listed: Listed) -> String {
                switch listed {
                case .entry(let entry): return entry.request.requested + entry.id
                case .damaged(let id, _, _): return "~" + id
                }
            }
            return key(first) < key(second)
        }
    }

    /// The request and its signed state, as stored.
    public func load(_ id: String) throws -> Entry {
        let (bytes, request) = try requestDocument(id)
        return Entry(id: id, bytes: bytes, request: request, state: try storedState(id, bytes: bytes, request: request))
    }

    private func requestDocument(_ id: String) throws -> ([UInt8], DestructionRequest) {
        guard DestructionRequests.isRequestID(id) else { throw unknown(id) }
        let key = DestructionRequests.requestKey(id)
        guard let bytes = try? installation.store.get(key) else {
            if try installation.store.children(of: DestructionRequests.prefix.appending(id)).isEmpty { throw unknown(id) }
            throw LetheError.integrity("\(key) is missing")
        }
        guard let request = DestructionRequest.decode(bytes), request.id == id else {
            throw LetheError.integrity("\(key) is not a canonical \(DestructionRequest.formatName) document for \(id)")
        }
        return (bytes, request)
    }

    private func unknown(_ id: String) -> LetheError {
        LetheError.usage("unknown destruction request \(id) (see `lethe destroy list`)")
    }

    private func storedState(_ id: String, bytes: [UInt8], request: DestructionRequest) throws -> DestructionState {
        let key = DestructionRequests.stateKey(id)
        guard let stored = try? installation.store.get(key) else { throw LetheError.integrity("\(key) is missing") }
        let document = try SignedObject.open(stored, context: key.rawValue, publicKey: try installation.signingKey().publicKey, object: key)
        guard let state = try? JSONDecoder().decode(DestructionState.self, from: Data(document)),
              state.request == id, state.tenant == request.tenant, state.requestSHA256 == Hex.encode(try SHA256.hash(bytes)) else {
            throw LetheError.integrity("\(key) does not describe \(DestructionRequests.requestKey(id))")
        }
        return state
    }

    private func save(_ state: DestructionState) throws {
        let key = DestructionRequests.stateKey(state.request)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let signed = try SignedObject.sign(Array(try encoder.encode(state)), context: key.rawValue, key: try installation.signingKey())
        try installation.store.put(key, try signed.encoded())
    }

    /// The open (pending, approved or executing) request for `tenant`, if any. A damaged
    /// request of the tenant is an integrity error: it may be open, and it blocks the tenant.
    public func open(for tenant: TenantID) throws -> Entry? {
        for listed in try list() {
            switch listed {
            case .entry(let entry) where entry.request.tenant == tenant.rawValue && entry.status.isOpen:
                return entry
            case .damaged(_, tenant.rawValue, let problem):
                throw problem
            default:
                continue
            }
        }
        return nil
    }

    // MARK: Deciding

    /// The request as the proven audit log makes it. `state.json` must agree (or be one step
    /// ahead, left by a crash, and is then repaired); `repairingDamage` also rewrites a
    /// missing, damaged or rolled-back copy instead of refusing, for cancellation.
    public func authenticated(_ id: String, repairingDamage: Bool = false) throws -> Entry {
        let (bytes, request) = try requestDocument(id)
        let history = try AuditTrail(installation).history()
        guard let logged = try DestructionState.fold(history.entries, request: id) else {
            throw LetheError.integrity(
                "\(DestructionRequests.requestKey(id)) is not in the audit log: it was written outside Lethe, or its creation was "
                    + "interrupted (`lethe destroy cancel \(id)` removes it)")
        }
        guard logged.requestSHA256 == Hex.encode(try SHA256.hash(bytes)), logged.tenant == request.tenant else {
            throw LetheError.integrity("\(DestructionRequests.requestKey(id)) is not the request the audit log recorded (replaced)")
        }
        let stored: DestructionState?
        do {
            stored = try storedState(id, bytes: bytes, request: request)
        } catch let problem as LetheError where repairingDamage && problem.kind == .integrity {
            stored = nil
        }
        if stored != logged {
            let crashedAhead = stored.map { $0.sequence == logged.sequence + 1 } ?? false
            guard crashedAhead || repairingDamage else {
                throw LetheError.integrity(
                    "\(DestructionRequests.stateKey(id)) (step \(stored?.sequence ?? 0)) disagrees with the audit log (step "
                        + "\(logged.sequence)): it was rolled back or replaced; the request is blocked until it is cancelled")
            }
            try save(logged)
        }
        return Entry(id: id, bytes: bytes, request: request, state: logged)
    }

    /// Runs `body`, which decides about request `id` and moves it on, holding the request's
    /// lease: two approvals, or two executions, handed in at once on one host or on two never
    /// read the same step and both log the next.
    func exclusively<T>(_ id: String, _ body: () throws -> T) throws -> T {
        try Lease.holding(
            "destruction/\(id)", store: installation.store, worker: installation.worker, clock: installation.clock,
            duration: 300, wait: 900, body)
    }

    /// Moves `entry` on by one event: the new state is written first, then the event is
    /// logged with the same time and actor, so that the log's fold reproduces it exactly. A
    /// crash in between leaves the state one step ahead, which `authenticated` repairs.
    @discardableResult
    func transition(_ entry: Entry, _ operation: DestructionState.Operation, _ details: [String: String]) throws -> (Entry, AuditEntry) {
        var details = details
        details["request"] = entry.id
        details["sequence"] = String(entry.state.sequence + 1)
        let time = installation.nowText
        let next = try entry.state.applying(.init(operation: operation, details: details, time: time, actor: installation.actor, index: nil))
        try save(next)
        FaultPoint.reach("destroy.state-saved")
        let (logged, _) = try AuditTrail(installation).record(
            [AuditLog.Event(operation.rawValue, tenant: entry.request.tenant, details: details)], time: time)
        return (Entry(id: entry.id, bytes: entry.bytes, request: entry.request, state: next), logged[0])
    }

    // MARK: Request

    /// Opens a request for `tenant`, with an inventory of everything under its prefix, judged
    /// by the authorizer registry in force now.
    public func create(tenant: TenantID, reason: DestructionReason, note: String?, requester: String? = nil) throws -> Entry {
        let record = try TenantRegistry(installation).record(tenant)
        let lifecycle = Lifecycle(installation)
        if let hold = record.legalHold {
            throw LetheError.refused("tenant \(tenant) is on legal hold since \(hold.since) (\(hold.reason)); it cannot be destroyed")
        }
        if let open = try open(for: tenant) {
            throw LetheError.refused("tenant \(tenant) already has an open destruction request, \(open.id) (\(open.status.rawValue))")
        }
        if reason == .retentionExpired {
            guard record.state == .offboarded, let end = lifecycle.windowEnd(record) else {
                throw LetheError.refused("tenant \(tenant) is active: retention-expired applies only after offboarding and the restore window")
            }
            guard installation.now >= end else {
                throw LetheError.refused(
                    "tenant \(tenant) is inside its restore window until \(Timestamp.format(end)); retention-expired is not yet true "
                        + "(a client-request or contract-end reason may apply)")
            }
        }
        let chain = try AuthorizerRegistry(installation).chain()
        guard let registry = chain.current, let digest = chain.digests.last else {
            throw LetheError.refused("no authorizers are registered: a destruction needs their approval (`lethe authorizer add`, see docs/operations.md)")
        }
        guard let key = try installation.keystore().keyInfo(for: tenant) else { throw KeyError.noTenantKey(tenant) }
        try DestructionRequests.requireNoHolds(on: tenant, in: installation.store)
        let repository = try installation.repository(for: tenant)
        let lock = try TenantLock.acquire(repository, exclusive: true, operation: "destroy request", clock: installation.clock)
        defer { lock.release() }
        let date = Timestamp.format(installation.now).prefix(10).replacingOccurrences(of: "-", with: "")
        let id = "dr-\(date)-\(Hex.encode(try SystemRandom.bytes(count: 4)))"
        let request = DestructionRequest(
            id: id, tenant: tenant.rawValue, tenantName: record.name, reason: reason, note: note,
            requester: requester ?? installation.actor, requested: installation.nowText, policy: registry.policy,
            gracePeriodHours: registry.gracePeriodHours, registry: RegistryReference(version: registry.version, sha256: digest),
            store: "\(installation.store.location)/\(tenant.storePrefix)", versioning: try installation.store.versioning(),
            dekID: key.dekID, dekCommitment: key.commitment, inventory: try Inventory.take(of: tenant, in: installation.store),
            register: record.register)
        let bytes = try request.canonicalBytes()
        let sha = Hex.encode(try SHA256.hash(bytes))
        try installation.store.put(DestructionRequests.requestKey(id), bytes)
        let state = DestructionState(request: id, tenant: tenant.rawValue, requestSHA256: sha)
        try save(state)
        try AuditTrail(installation).record(DestructionState.Operation.request.rawValue, tenant: tenant, details: [
            "request": id, "sequence": "1", "requestSHA256": sha, "reason": reason.rawValue,
            "inventoryDigest": request.inventory.digest, "objects": String(request.inventory.objectCount),
            "registryVersion": String(registry.version),
        ])
        return Entry(id: id, bytes: bytes, request: request, state: state)
    }

    // MARK: Approval

    /// Adds the approval of `authorizerName` with a raw Ed25519 `signature` over the request
    /// bytes (as `openssl pkeyutl -sign -rawin` makes it). Every refusal changes nothing.
    public func approve(_ id: String, authorizerName: String, signature: [UInt8]) throws -> Entry {
        try exclusively(id) { try approveHoldingLease(id, authorizerName: authorizerName, signature: signature) }
    }

    private func approveHoldingLease(_ id: String, authorizerName: String, signature: [UInt8]) throws -> Entry {
        let entry = try authenticated(id)
        guard entry.status == .pending || entry.status == .approved else {
            throw LetheError.refused("destruction request \(id) is \(entry.status.rawValue); it takes no more approvals")
        }
        let judges = try DestructionAuthority(installation).registry(for: entry)
        guard let authorizer = judges.version.authorizer(named: authorizerName), authorizer.isActive,
              judges.current.authorizer(fingerprint: authorizer.fingerprint)?.isActive == true else {
            throw LetheError.refused(
                "\(authorizerName) is not an active authorizer of registry version \(judges.version.version), which judges request \(id) "
                    + "(see `lethe authorizer list`)")
        }
        guard signature.count == Ed25519.signatureByteCount else {
            throw LetheError.refused("a signature is 64 bytes of raw Ed25519 (openssl pkeyutl -sign -rawin); this one has \(signature.count)")
        }
        guard try authorizer.key().isValidSignature(signature, for: entry.bytes) else {
            throw LetheError.refused(
                "the signature of \(authorizerName) does not verify over the bytes of request \(id) (signed another document, or with another key)")
        }
        guard !entry.state.approvals.contains(where: { $0.keyFingerprint == authorizer.fingerprint }) else {
            throw LetheError.refused("\(authorizerName) has already approved request \(id); approvals must come from distinct authorizers")
        }
        try requireInventoryUnchanged(entry)
        let approvers = try entry.state.approvals.map { approval in
            try judges.version.authorizer(fingerprint: approval.keyFingerprint)
                ?? { throw LetheError.integrity("approval by \(approval.authorizer) on \(id) names a key registry version \(judges.version.version) does not have") }()
        } + [authorizer]
        var details = [
            "authorizer": authorizer.name, "role": authorizer.role.rawValue, "fingerprint": authorizer.fingerprint,
            "signature": Data(signature).base64EncodedString(), "registryVersion": String(judges.version.version),
            "status": entry.status.rawValue,
        ]
        if entry.status == .pending, entry.request.policy.isSatisfied(signedBy: approvers) {
            details["status"] = DestructionStatus.approved.rawValue
            details["executableAfter"] = Timestamp.format(
                installation.now.addingTimeInterval(TimeInterval(entry.request.gracePeriodHours) * 3600))
        }
        return try transition(entry, .approve, details).0
    }

    /// Signs the request with `privateKey` and adds the approval of the authorizer it belongs to.
    public func approve(_ id: String, privateKey: Ed25519.PrivateKey) throws -> Entry {
        let entry = try authenticated(id)
        let fingerprint = try privateKey.publicKey.fingerprint
        let judges = try DestructionAuthority(installation).registry(for: entry)
        guard let authorizer = judges.version.authorizer(fingerprint: fingerprint) else {
            throw LetheError.refused("the key \(fingerprint) belongs to no authorizer of registry version \(judges.version.version)")
        }
        return try approve(id, authorizerName: authorizer.name, signature: try privateKey.signature(for: entry.bytes))
    }

    /// Refuses while the store would keep any version of the tenant's objects (object-lock
    /// retention, a legal hold): a destruction must never report a deletion the store will not
    /// perform.
    static func requireNoHolds(on tenant: TenantID, in store: ObjectStore) throws {
        let holds = try store.holds(prefix: tenant.storePrefix) + store.holds(prefix: Layout.lockPrefix(tenant))
        guard holds.isEmpty else {
            throw LetheError.refused(
                "tenant \(tenant) cannot be destroyed: the store keeps \(holds.count) of its object versions under object lock ("
                    + holds.prefix(3).map(\.description).joined(separator: "; ") + (holds.count > 3 ? "; …" : "")
                    + "); lift the retention or legal hold first")
        }
    }

    /// Refuses when the tenant's objects differ from the request's inventory.
    func requireInventoryUnchanged(_ entry: Entry) throws {
        let now = try Inventory.take(of: try TenantID(entry.request.tenant), in: installation.store)
        guard now.digest == entry.request.inventory.digest else {
            throw LetheError.refused(
                "the objects of tenant \(entry.request.tenant) changed since request \(entry.id) was made "
                    + "(\(entry.request.inventory.objectCount) then, \(now.objectCount) now); cancel it and make a new request")
        }
    }

    // MARK: Cancellation

    /// Cancels a request that has not started executing; final. Works on a request whose
    /// `state.json` is damaged or rolled back (that is how such a request is unblocked), and
    /// removes a request the log never recorded (a crashed creation, or one written by hand),
    /// returning nil for it.
    @discardableResult
    public func cancel(_ id: String, reason: String) throws -> Entry? {
        try exclusively(id) { try cancelHoldingLease(id, reason: reason) }
    }

    private func cancelHoldingLease(_ id: String, reason: String) throws -> Entry? {
        _ = try requestDocument(id)
        if try DestructionState.fold(try AuditTrail(installation).history().entries, request: id) == nil {
            for object in try installation.store.list(prefix: DestructionRequests.prefix.appending(id)) {
                try installation.store.delete(object.key)
            }
            try AuditTrail(installation).record("destroy.discard", tenant: nil, details: [
                "request": id, "reason": "never recorded in the audit log; removed: \(reason)",
            ])
            return nil
        }
        let entry = try authenticated(id, repairingDamage: true)
        guard entry.status == .pending || entry.status == .approved else {
            throw LetheError.refused("destruction request \(id) is \(entry.status.rawValue) and can no longer be cancelled")
        }
        return try transition(entry, .cancel, ["reason": reason]).0
    }
}
