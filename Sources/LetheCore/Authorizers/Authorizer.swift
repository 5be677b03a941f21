import Foundation
import LetheCrypto
import LetheStore

/// A person whose signature can authorize a destruction, with their Ed25519 public key.
public struct Authorizer: Codable, Equatable, Sendable {
    public enum Role: String, Codable, Sendable, CaseIterable {
        case dpo
        case officer
    }

    public var name: String
    public var role: Role
    /// SubjectPublicKeyInfo PEM, as `openssl pkey -pubout` writes it.
    public var publicKey: String
    public var fingerprint: String
    public var added: String
    public var addedBy: String
    /// Set when the authorizer was removed; the entry stays, so past approvals stay checkable.
    public var removed: String?
    public var removedBy: String?
    public var removalReason: String?

    public var isActive: Bool { removed == nil }

    public func key() throws -> Ed25519.PublicKey {
        try Ed25519.PublicKey(pemRepresentation: publicKey)
    }

    static func validate(name: String) throws {
        guard (1...64).contains(name.count),
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.@".contains($0)) }) else {
            throw LetheError.usage("authorizer name \"\(name)\" must be 1 to 64 characters of letters, digits, '-', '_', '.', '@'")
        }
    }
}

/// Approvals a destruction needs: `required` distinct authorizers, of whom at least
/// `minimumDPOs` have the DPO role. The default is the brief's: two, one of them a DPO. It
/// lives in the authorizer registry, so only the authorizers themselves can change it.
public struct ApprovalPolicy: Codable, Equatable, Sendable {
    public var required: Int
    public var minimumDPOs: Int

    public static let standard = ApprovalPolicy(required: 2, minimumDPOs: 1)

    public init(required: Int, minimumDPOs: Int) {
        self.required = required
        self.minimumDPOs = minimumDPOs
    }

    func validate() -> String? {
        guard required >= 1 else { return "the approval policy needs at least 1 approval" }
        guard (0...required).contains(minimumDPOs) else { return "the approval policy's DPO count must be 0 to the number of approvals" }
        return nil
    }

    /// True when `signers` are at least `required` distinct authorizers (by key fingerprint),
    /// of whom at least `minimumDPOs` are DPOs.
    public func isSatisfied(signedBy signers: [Authorizer]) -> Bool {
        let distinct = Set(signers.map(\.fingerprint))
        let dpos = Set(signers.filter { $0.role == .dpo }.map(\.fingerprint))
        return distinct.count >= required && dpos.count >= minimumDPOs
    }

    /// True when these approvals (each naming its authorizer and role) meet the policy.
    public func isSatisfied(by approvals: [Approval]) -> Bool {
        let distinct = Set(approvals.map(\.keyFingerprint))
        let dpos = Set(approvals.filter { $0.role == .dpo }.map(\.keyFingerprint))
        return distinct.count >= required && dpos.count >= minimumDPOs
    }

    public var summary: String {
        "\(required) distinct authorizer\(required == 1 ? "" : "s"), at least \(minimumDPOs) DPO\(minimumDPOs == 1 ? "" : "s")"
    }
}
