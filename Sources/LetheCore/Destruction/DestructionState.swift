import Foundation
import LetheStore

/// Where a destruction request stands, for listings and JSON.
public enum DestructionStatus: String, Codable, Sendable {
    /// Waiting for approvals.
    case pending
    /// Approved; the grace period runs until `executableAfter`.
    case approved
    /// Cancelled before execution; nothing was touched. Final.
    case cancelled
    /// Execution started; it resumes where it stopped until completed.
    case executing
    /// Destroyed, verified and reported.
    case completed

    /// Open requests block the tenant's backups and lifecycle changes.
    public var isOpen: Bool { self == .pending || self == .approved || self == .executing }
}

/// One authorizer's signature over the request bytes, as logged when it was accepted.
public struct Approval: Codable, Equatable, Sendable {
    public var authorizer: String
    public var role: Authorizer.Role
    public var keyFingerprint: String
    /// Raw Ed25519 signature, base64.
    public var signature: String
    public var time: String

    public init(authorizer: String, role: Authorizer.Role, keyFingerprint: String, signature: String, time: String) {
        self.authorizer = authorizer
        self.role = role
        self.keyFingerprint = keyFingerprint
        self.signature = signature
        self.time = time
    }
}

/// The steps of an execution, in order. Each is idempotent, so a run killed in one repeats it.
public enum DestructionStep: String, CaseIterable, Codable, Sendable {
    /// Wait out work running on the tenant (its lock).
    case block
    /// Remove the DEK and ratchet the KEK epoch (docs/keys.md).
    case revokeKey = "revoke-key"
    /// Delete every object under tenants/<t>/, its locks and unfinished writes.
    case deleteObjects = "delete-objects"
    /// Delete its catalog rows (secure_delete, checkpoint, vacuum); keep a tombstone.
    case purgeCatalog = "purge-catalog"
    /// Remove its local caches and temporary files.
    case clearCaches = "clear-caches"
    /// The checks of `DestructionVerifier`, each recorded.
    case verify
    /// Log the execution, then sign and store the report.
    case report
}

/// One executed step, as logged.
public struct StepRecord: Codable, Equatable, Sendable {
    public var step: DestructionStep
    public var finished: String
    public var detail: [String: String]
}

/// What was established before the first irreversible step, after the full re-check.
public struct StartEvidence: Codable, Equatable, Sendable {
    public var kekEpochBefore: Int
    /// The object whose ciphertext was kept as a sample, and its SHA-256.
    public var sampleObject: String
    public var sampleSHA256: String
    /// The keystore entry about to be revoked.
    public var dekID: String
    public var dekCommitment: String
}

/// One check of a destruction's verification, with its result.
public struct VerificationCheck: Codable, Equatable, Sendable {
    public var check: String
    public var passed: Bool
    public var detail: String
}

/// The state of one destruction request, as its audit-log entries make it.
///
/// It is never read from anything but those entries (or from `state.json`, a signed copy that
/// must agree with them): `applying` is the one function that turns an entry into the next
/// state, and it refuses an entry that cannot follow (an approval after a cancellation, a step
/// before the start). The phase is an enum whose cases carry their own data, so an approved
/// request without a time to execute, or a completed one without a report, cannot exist.
public struct DestructionState: Equatable, Sendable {
    public struct Approved: Codable, Equatable, Sendable {
        public var approvedAt: String
        public var executableAfter: String
    }

    public struct Cancellation: Codable, Equatable, Sendable {
        public var at: String
        public var by: String
        public var reason: String
    }

    public struct Execution: Codable, Equatable, Sendable {
        public var started: String
        public var evidence: StartEvidence
        public var steps: [StepRecord]
        /// Whether the `destroy.execute` entry, the report's leaf, has been logged.
        public var executionLogged: Bool

        public func finished(_ step: DestructionStep) -> StepRecord? {
            steps.first { $0.step == step }
        }

        /// Values later steps recorded, for the report.
        public var kekEpochAfter: Int? { finished(.revokeKey)?.detail["kekEpochAfter"].flatMap(Int.init) }
        public var revokedCommitment: String? { finished(.revokeKey)?.detail["revokedCommitment"] }
        public var objectsDeleted: Int? { finished(.deleteObjects)?.detail["objectsDeleted"].flatMap(Int.init) }
        public var checks: [VerificationCheck]? {
            finished(.verify)?.detail["checks"].flatMap { try? JSONDecoder().decode([VerificationCheck].self, from: Data($0.utf8)) }
        }
    }

    public enum Phase: Equatable, Sendable {
        case pending
        case approved(Approved)
        case cancelled(Cancellation)
        case executing(Execution)
        case completed(Execution, report: String)
    }

    public let request: String
    public let tenant: String
    /// SHA-256 of the request bytes the log recorded when the request was made.
    public let requestSHA256: String
    /// How many of the request's entries the state reflects.
    public private(set) var sequence: Int
    public private(set) var approvals: [Approval]
    public private(set) var phase: Phase

    public var status: DestructionStatus {
        switch phase {
        case .pending: return .pending
        case .approved: return .approved
        case .cancelled: return .cancelled
        case .executing: return .executing
        case .completed: return .completed
        }
    }

    public var execution: Execution? {
        switch phase {
        case .executing(let execution), .completed(let execution, _): return execution
        default: return nil
        }
    }

    public var report: String? {
        if case .completed(_, let report) = phase { return report }
        return nil
    }

    /// One audit entry of a request, before or after it is appended.
    public struct Event: Sendable {
        public let operation: Operation
        public let details: [String: String]
        public let time: String
        public let actor: String
        /// Its index in the log, when read from it.
        public let index: Int?
    }

    /// The audit-log operations of a destruction request.
    public enum Operation: String, Sendable {
        case request = "destroy.request"
        case approve = "destroy.approve"
        case cancel = "destroy.cancel"
        case start = "destroy.start"
        case step = "destroy.step"
        case execute = "destroy.execute"
        case reportIssued = "report.issued"
    }

    /// The state `destroy.request` creates.
    init(request: String, tenant: String, requestSHA256: String) {
        self.request = request
        self.tenant = tenant
        self.requestSHA256 = requestSHA256
        sequence = 1
        approvals = []
        phase = .pending
    }

    /// The state after `event`, whose `details["sequence"]` must be the next number.
    func applying(_ event: Event) throws -> DestructionState {
        func bad(_ why: String) -> LetheError {
            LetheError.integrity("audit log: \(event.operation.rawValue) for \(request) \(why)")
        }
        func field(_ name: String) throws -> String {
            guard let value = event.details[name], !value.isEmpty else { throw bad("has no \(name)") }
            return value
        }
        guard event.details["request"] == request, event.details["sequence"] == String(sequence + 1) else {
            throw bad("is out of sequence (expected step \(sequence + 1))")
        }
        var next = self
        next.sequence += 1
        switch (event.operation, phase) {
        case (.approve, .pending), (.approve, .approved):
            guard let role = Authorizer.Role(rawValue: try field("role")) else { throw bad("names an unknown role") }
            next.approvals.append(Approval(
                authorizer: try field("authorizer"), role: role, keyFingerprint: try field("fingerprint"),
                signature: try field("signature"), time: event.time))
            if case .pending = phase, try field("status") == DestructionStatus.approved.rawValue {
                next.phase = .approved(Approved(approvedAt: event.time, executableAfter: try field("executableAfter")))
            }
        case (.cancel, .pending), (.cancel, .approved):
            next.phase = .cancelled(Cancellation(at: event.time, by: event.actor, reason: event.details["reason"] ?? ""))
        case (.start, .approved):
            guard let epoch = Int(try field("kekEpochBefore")) else { throw bad("has no KEK epoch") }
            next.phase = .executing(Execution(
                started: event.time,
                evidence: StartEvidence(
                    kekEpochBefore: epoch, sampleObject: try field("sample"), sampleSHA256: try field("sampleSHA256"),
                    dekID: try field("dekID"), dekCommitment: try field("dekCommitment")),
                steps: [], executionLogged: false))
        case (.step, .executing(var execution)):
            guard let step = DestructionStep(rawValue: try field("step")), step != .report,
                  execution.finished(step) == nil else { throw bad("repeats or names an unknown step") }
            var detail: [String: String] = [:]
            for (key, value) in event.details where key.hasPrefix("detail.") { detail[String(key.dropFirst(7))] = value }
            execution.steps.append(StepRecord(step: step, finished: event.time, detail: detail))
            next.phase = .executing(execution)
        case (.execute, .executing(var execution)):
            guard execution.finished(.verify) != nil else { throw bad("comes before the verification") }
            execution.executionLogged = true
            next.phase = .executing(execution)
        case (.reportIssued, .executing(var execution)):
            guard execution.executionLogged else { throw bad("comes before the execution entry") }
            execution.steps.append(StepRecord(step: .report, finished: event.time, detail: ["report": try field("report")]))
            next.phase = .completed(execution, report: try field("report"))
        default:
            throw bad("cannot follow a request that is \(status.rawValue)")
        }
        return next
    }

    /// The state the log's entries give request `id`, or nil if the log never recorded it.
    public static func fold(_ entries: [AuditEntry], request id: String) throws -> DestructionState? {
        var state: DestructionState?
        for entry in entries where entry.details["request"] == id {
            guard let operation = Operation(rawValue: entry.operation) else { continue }
            let event = Event(operation: operation, details: entry.details, time: entry.time, actor: entry.actor, index: entry.index)
            if let current = state {
                state = try current.applying(event)
            } else {
                guard operation == .request, let sha = entry.details["requestSHA256"], let tenant = entry.tenant,
                      entry.details["sequence"] == "1" else {
                    throw LetheError.integrity("audit log: entry \(entry.index) concerns request \(id) before it was made")
                }
                state = DestructionState(request: id, tenant: tenant, requestSHA256: sha)
            }
        }
        return state
    }
}

// MARK: state.json

/// `state.json` holds the state flat, with the phase's data under the key of its status.
extension DestructionState: Codable {
    private enum Key: String, CodingKey {
        case request, tenant, requestSHA256, sequence, approvals, status, approved, cancelled, execution, report
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        request = try c.decode(String.self, forKey: .request)
        tenant = try c.decode(String.self, forKey: .tenant)
        requestSHA256 = try c.decode(String.self, forKey: .requestSHA256)
        sequence = try c.decode(Int.self, forKey: .sequence)
        approvals = try c.decode([Approval].self, forKey: .approvals)
        switch try c.decode(DestructionStatus.self, forKey: .status) {
        case .pending: phase = .pending
        case .approved: phase = .approved(try c.decode(Approved.self, forKey: .approved))
        case .cancelled: phase = .cancelled(try c.decode(Cancellation.self, forKey: .cancelled))
        case .executing: phase = .executing(try c.decode(Execution.self, forKey: .execution))
        case .completed:
            phase = .completed(try c.decode(Execution.self, forKey: .execution), report: try c.decode(String.self, forKey: .report))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(request, forKey: .request)
        try c.encode(tenant, forKey: .tenant)
        try c.encode(requestSHA256, forKey: .requestSHA256)
        try c.encode(sequence, forKey: .sequence)
        try c.encode(approvals, forKey: .approvals)
        try c.encode(status, forKey: .status)
        // Every key is always there, null where this phase has no value (as in all of Lethe's JSON).
        var approved: Approved?, cancellation: Cancellation?, execution: Execution?, report: String?
        switch phase {
        case .pending: break
        case .approved(let value): approved = value
        case .cancelled(let value): cancellation = value
        case .executing(let value): execution = value
        case .completed(let value, let id): (execution, report) = (value, id)
        }
        try c.encode(approved, forKey: .approved)
        try c.encode(cancellation, forKey: .cancelled)
        try c.encode(execution, forKey: .execution)
        try c.encode(report, forKey: .report)
    }
}
