import LetheCrypto

/// A key-encryption-key epoch: 1 at `lethe init`, one more at every revocation or rotation.
public struct KEKEpoch: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let number: Int

    public init(_ number: Int) {
        precondition(number >= 1, "KEK epochs start at 1")
        self.number = number
    }

    public var next: KEKEpoch { KEKEpoch(number + 1) }
    public var description: String { String(number) }
    public static func < (lhs: KEKEpoch, rhs: KEKEpoch) -> Bool { lhs.number < rhs.number }

    public init(from decoder: Decoder) throws {
        let number = try decoder.singleValueContainer().decode(Int.self)
        guard number >= 1 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "epoch < 1"))
        }
        self.number = number
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(number)
    }
}

/// Where KEKs live and how they are used. The KEK never has to leave the provider: callers
/// ask it to wrap, unwrap and authenticate, which is the shape of a KMS or an HSM as much as
/// of the file-based default (`FileKEKProvider`).
///
/// `context` binds a wrapped key to its use (tenant, DEK id, epoch): a wrapped DEK moved to
/// another tenant's entry does not unwrap.
public protocol KEKProvider: Sendable {
    /// Where the KEKs are, for status output and messages.
    var location: String { get }

    /// The epochs that currently have a KEK, ascending.
    func epochs() throws -> [KEKEpoch]

    /// Creates the KEK of `epoch`, replacing any leftover of an interrupted earlier attempt.
    func createEpoch(_ epoch: KEKEpoch) throws

    /// Destroys the KEK of `epoch` irrecoverably. Destroying an absent epoch succeeds.
    func destroyEpoch(_ epoch: KEKEpoch) throws

    /// `key` wrapped under the KEK of `epoch`, bound to `context`.
    func wrap(_ key: SecureBytes, context: [UInt8], epoch: KEKEpoch) throws -> [UInt8]

    /// The key inside `wrapped`; throws `CryptoError.authenticationFailure` if the KEK or the
    /// context differ from those used to wrap, or if `wrapped` was altered.
    func unwrap(_ wrapped: [UInt8], context: [UInt8], epoch: KEKEpoch) throws -> SecureBytes

    /// A MAC of `message` under a key derived from the KEK of `epoch` (protects the keystore
    /// file as a whole).
    func authenticate(_ message: [UInt8], epoch: KEKEpoch) throws -> [UInt8]
}
