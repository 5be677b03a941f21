/// What can go wrong in a cryptographic operation.
///
/// The cases are few on purpose: a caller can act on each of them, and none ever carries key
/// bytes, plaintext, or anything derived from a secret.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An AEAD tag or a key-wrap integrity check did not verify: wrong key, wrong associated
    /// data, or modified ciphertext. No plaintext is ever released in this case.
    case authenticationFailure
    /// A key had a length the operation does not accept.
    case invalidKeySize(Int)
    /// An input had a shape the operation cannot take (too short to hold a tag, too long, ...).
    case invalidInput(String)
    /// A PEM document was not what was expected (not PEM, wrong key type, damaged).
    case invalidPEM(String)
    /// libcrypto reported a failure that is none of the above.
    case library(function: String, reason: String)

    public var description: String {
        switch self {
        case .authenticationFailure:
            return "authentication failed: wrong key, or the data was modified"
        case .invalidKeySize(let size):
            return "invalid key size: \(size) bytes"
        case .invalidInput(let why):
            return "invalid input: \(why)"
        case .invalidPEM(let why):
            return "invalid PEM key: \(why)"
        case .library(let function, let reason):
            return "libcrypto \(function) failed: \(reason)"
        }
    }
}
