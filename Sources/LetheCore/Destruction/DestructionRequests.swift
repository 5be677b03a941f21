import Foundation
import LetheCrypto
import LetheKeys
import LetheRepository
import LetheStore

/// Destruction requests in the store, under `destruction/<id>/`: `request.json` (the exact
/// signed bytes, never rewritten), `state.json` (approvals, cancellation, journal) and, once
/// execution starts, `sample` (a ciphertext kept to prove it no longer decrypts).
public struct DestructionRequests: Sendable {
    let installation: Installation
    static let prefix = try! ObjectKey("destruction")

    public init(_ installation: Installation) {
        self.installation = installation
    }

    static func requestKey(_ id: String) -> ObjectKey { try! prefix.appending(id).appending("request.json") }
    static func stateKey(_ id: String) -> ObjectKey { try! prefix.appending(id).appending("state.json") }
    static func sampleKey(_ id: String) -> ObjectKey { try! prefix.appending(id).appending("sample") }

    /// A request with its current state.
    public struct Entry: Sendable {
        public let id: String
        public let bytes: [UInt8]
        public let request: DestructionRequest
        public var state: DestructionState
        public var status: DestructionStatus { state.status }
    }

    // MARK: Reading

    public func ids() throws -> [String] {
        try installation.store.children(of: DestructionRequests.prefix).filter { $0.hasPrefix("dr-") }
    }

    public func list() throws -> [Entry] {
        try ids().compactMap { try? load($0) }.sorted { $0.request.requested < $1.request.requested }
    }

    public func load(_ id: String) throws -> Entry {
        guard id.hasPrefix("dr-"), (try? ObjectKey("destruction/\(id)")) != nil,
              let bytes = try? installation.store.get(DestructionRequests.requestKey(id)) else {
            throw LetheError.usage("unknown destruction request \(id) (see `lethe destroy list`)")
        }
        guard let request = try? JSONDecoder().decode(DestructionRequest.self, from: Data(bytes)),
              request.format == DestructionRequest.formatName, request.id == id else {
            throw LetheError.integrity("\(DestructionRequests.requestKey(id)) is not a destruction request")
        }
        return Entry(id: id, bytes: bytes, request: request, state: try loadState(id, tenant: request.tenant))
    }

    private func loadState(_ id: String, tenant: String) throws -> DestructionState {
        // A request whose state was never written (a crash right after the request) is pending.
        guard let bytes = try? installation.store.get(DestructionRequests.stateKey(id)) else {
            return DestructionState(tenant: tenant, status: .pending)
        }
        guard let state = try? JSONDecoder().decode(DestructionState.self, from: Data(bytes)) else {
            throw LetheError.integrity("\(DestructionRequests.stateKey(id)) does not parse")
        }
        return state
    }

    /// The open (pending, approved or executing) request for `tenant`, if any. Reads only the
    /// small state documents.
    public func open(for tenant: TenantID) throws -> Entry? {
        for id in try ids() {
            guard let bytes = try? installation.store.get(DestructionRequests.stateKey(id)) else {
                if let entry = try? load(id), entry.request.tenant == tenant.rawValue { return entry }
                continue
            }
            guard let state = try? JSONDecoder().decode(DestructionState.self, from: Data(bytes)),
                  state.tenant == tenant.rawValue, state.status.isOpen else { continue }
            return try load(id)
        }
        return nil
    }

    func save(_ state: DestructionState, id: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try installation.store.put(DestructionRequests.stateKey(id), Array(try encoder.encode(state)))
    }

    // MARK: Request

    /// Opens a request for `tenant`, with an inventory of everything under its prefix.
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
        guard let key = try installation.keystore().keyInfo(for: tenant) else { throw KeyError.noTenantKey(tenant) }
        let repository = try installation.repository(for: tenant)
        let lock = try TenantLock.acquire(repository, exclusive: true, operation: "destroy request", clock: installation.clock)
        defer { lock.release() }
        let configuration = installation.configuration
        let date = Timestamp.format(installation.now).prefix(10).replacingOccurrences(of: "-", with: "")
        let id = "dr-\(date)-\(Hex.encode(try SystemRandom.bytes(count: 4)))"
        let request = DestructionRequest(
            id: id, tenant: tenant.rawValue, tenantName: record.name, reason: reason, note: note,
            requester: requester ?? installation.actor, requested: installation.nowText, policy: configuration.approvalPolicy,
            gracePeriodHours: configuration.gracePeriodHours, store: "\(installation.store.location)/\(tenant.storePrefix)",
            dekID: key.dekID, dekCommitment: key.commitment, inventory: try Inventory.take(of: tenant, in: installation.store))
        let bytes = try request.canonicalBytes()
        try installation.store.put(DestructionRequests.requestKey(id), bytes)
        let state = DestructionState(tenant: tenant.rawValue, status: .pending)
        try save(state, id: id)
        try AuditTrail(installation).record("destroy.request", tenant: tenant, details: [
            "request": id, "reason": reason.rawValue, "inventoryDigest": request.inventory.digest,
            "objects": String(request.inventory.objectCount),
        ])
        return Entry(id: id, bytes: bytes, request: request, state: state)
    }

    // MARK: Approval

    /// Adds an approval by `authorizerName` with a raw Ed25519 `signature` over the request
    /// bytes (as `openssl pkeyutl -sign -rawin` makes it). Every refusal changes nothing.
    public func approve(_ id: String, authorizerName: String, signature: [UInt8]) throws -> Entry {
        var entry = try load(id)
        guard entry.status == .pending || entry.status == .approved else {
            throw LetheError.refused("destruction request \(id) is \(entry.status.rawValue); it takes no more approvals")
        }
        guard let authorizer = try AuthorizerRegistry(installation).all().first(where: { $0.name == authorizerName }),
              authorizer.isActive else {
            throw LetheError.refused("\(authorizerName) is not a registered authorizer (see `lethe authorizer list`)")
        }
        guard try authorizer.key().isValidSignature(signature, for: entry.bytes) else {
            throw LetheError.refused(
                "the signature of \(authorizerName) does not verify over the bytes of request \(id) (signed another document, or with another key)")
        }
        guard !entry.state.approvals.contains(where: { $0.authorizer == authorizer.name || $0.keyFingerprint == authorizer.fingerprint }) else {
            throw LetheError.refused("\(authorizerName) has already approved request \(id); approvals must come from distinct authorizers")
        }
        try requireInventoryUnchanged(entry)
        entry.state.approvals.append(Approval(
            authorizer: authorizer.name, role: authorizer.role, keyFingerprint: authorizer.fingerprint,
            signature: Data(signature).base64EncodedString(), time: installation.nowText))
        if entry.status == .pending, entry.request.policy.isSatisfied(by: entry.state.approvals) {
            entry.state.status = .approved
            entry.state.approvedAt = installation.nowText
            entry.state.executableAfter = Timestamp.format(
                installation.now.addingTimeInterval(TimeInterval(entry.request.gracePeriodHours) * 3600))
        }
        try save(entry.state, id: id)
        try AuditTrail(installation).record("destroy.approve", tenant: try TenantID(entry.request.tenant), details: [
            "request": id, "authorizer": authorizer.name, "role": authorizer.role.rawValue, "fingerprint": authorizer.fingerprint,
            "status": entry.status.rawValue,
        ])
        return entry
    }

    /// Signs the request with `key` and adds the approval of the authorizer it belongs to.
    public func approve(_ id: String, privateKey: Ed25519.PrivateKey) throws -> Entry {
        let entry = try load(id)
        let fingerprint = try privateKey.publicKey.fingerprint
        guard let authorizer = try AuthorizerRegistry(installation).all().first(where: { $0.fingerprint == fingerprint && $0.isActive }) else {
            throw LetheError.refused("the key \(fingerprint) belongs to no registered authorizer")
        }
        return try approve(id, authorizerName: authorizer.name, signature: try privateKey.signature(for: entry.bytes))
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

    public func cancel(_ id: String, reason: String) throws -> Entry {
        var entry = try load(id)
        guard entry.status == .pending || entry.status == .approved else {
            throw LetheError.refused("destruction request \(id) is \(entry.status.rawValue) and can no longer be cancelled")
        }
        entry.state.status = .cancelled
        entry.state.cancelled = installation.nowText
        entry.state.cancelledBy = installation.actor
        entry.state.cancelReason = reason
        try save(entry.state, id: id)
        try AuditTrail(installation).record("destroy.cancel", tenant: try TenantID(entry.request.tenant), details: ["request": id, "reason": reason])
        return entry
    }
}

extension ApprovalPolicy {
    /// True when the approvals come from at least `required` distinct authorizers, of whom at
    /// least `minimumDPOs` are DPOs.
    public func isSatisfied(by approvals: [Approval]) -> Bool {
        let distinct = Set(approvals.map(\.authorizer))
        let dpos = Set(approvals.filter { $0.role == .dpo }.map(\.authorizer))
        return distinct.count >= required && dpos.count >= minimumDPOs
    }

    public var summary: String {
        "\(required) distinct authorizer\(required == 1 ? "" : "s"), at least \(minimumDPOs) DPO\(minimumDPOs == 1 ? "" : "s")"
    }
}
