import Foundation
@testable import LetheKeys
import Testing

/// The keystore reader's shape check of a wrapped key agrees with decoding it and encoding it
/// again, the check it replaced: on real encodings, and on every one-character change of them.
@Suite struct WrappedKeyBase64Tests {
    static func decodesCanonically(_ text: String) -> Bool {
        guard let data = Data(base64Encoded: text), data.count == KeystoreFile.wrappedByteCount else { return false }
        return data.base64EncodedString() == text
    }

    @Test func theShapeCheckAgreesWithDecodingAndEncodingAgain() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ ")
        var tried = 0
        for _ in 0..<20 {
            let text = Data((0..<40).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
            #expect(KeystoreFile.isCanonicalBase64OfWrappedKey(text))
            var characters = Array(text)
            for position in [0, 30, 52, 53, 54, 55] {
                let original = characters[position]
                for replacement in alphabet where replacement != original {
                    characters[position] = replacement
                    let changed = String(characters)
                    #expect(KeystoreFile.isCanonicalBase64OfWrappedKey(changed) == Self.decodesCanonically(changed), "\(changed)")
                    tried += 1
                }
                characters[position] = original
            }
            for other in [String(text.dropLast()), text + "=", String(text.dropLast(2)), ""] {
                #expect(KeystoreFile.isCanonicalBase64OfWrappedKey(other) == Self.decodesCanonically(other))
            }
        }
        #expect(tried > 7000)
    }
}
