/// Where a destruction request stands.
public enum DestructionStatus: String, Codable, Sendable {
    /// Waiting for approvals.
    case pending
    /// Approved; the grace period runs until `executableAfter`.
    case approved
    /// Cancelled before execution; nothing was touched.
    case cancelled
    /// Execution started; it resumes where it stopped until completed.
    case executing
    /// Destroyed, verified and reported.
    case completed

    /// Open requests block the tenant's backups and lifecycle changes.
    public var isOpen: Bool { self == .pending || self == .approved || self == .executing }
}

/// One authorizer's signature over the request bytes.
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

/// One executed step of a destruction, as journaled.
public struct StepRecord: Codable, Equatable, Sendable {
    public var step: String
    public var finished: String
    public var detail: [String: String]
}

/// The mutable side of a request (`destruction/<id>/state.json`): approvals, cancellation,
/// and the execution journal. The request bytes themselves never change.
public struct DestructionState: Codable, Equatable, Sendable {
    public var tenant: String
    public var status: DestructionStatus
    public var approvals: [Approval] = []
    public var approvedAt: String?
    public var executableAfter: String?
    public var cancelled: String?
    public var cancelledBy: String?
    public var cancelReason: String?
    public var executionStarted: String?
    public var steps: [StepRecord] = []
    public var evidence: ExecutionEvidence?
    public var report: String?

    public init(tenant: String, status: DestructionStatus) {
        self.tenant = tenant
        self.status = status
    }

    public func finished(_ step: String) -> StepRecord? {
        steps.first { $0.step == step }
    }
}

/// What execution established, step by step, for the report.
public struct ExecutionEvidence: Codable, Equatable, Sendable {
    public var kekEpochBefore: Int
    public var kekEpochAfter: Int?
    /// The object whose ciphertext was kept as a sample, and its SHA-256.
    public var sampleObject: String
    public var sampleSHA256: String
    public var objectsDeleted: Int?
    public var checks: [VerificationCheck]?
}

/// One check of a destruction's verification, with its result.
public struct VerificationCheck: Codable, Equatable, Sendable {
    public var check: String
    public var passed: Bool
    public var detail: String
}
