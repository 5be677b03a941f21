import Foundation
import LetheCrypto

/// The tests' own hex codec, independent of `LetheCrypto.Hex` (which is itself under test).
enum TestHex {
    static func decode(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    static func encode(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }
}

/// Secret bytes for an API that takes `SecureBytes`.
func secure(_ bytes: [UInt8]) -> SecureBytes {
    bytes.withUnsafeBytes { SecureBytes(copying: $0) }
}

/// A copy of the secret, so a test can compare it. Tests only: production code never does this.
func contents(of secret: SecureBytes) -> [UInt8] {
    secret.withUnsafeBytes { Array($0) }
}

func symmetricKey(_ bytes: [UInt8]) throws -> SymmetricKey {
    try SymmetricKey(secure(bytes))
}

/// `bytes` with bit `bit` (0 = least significant) of byte `index` inverted.
func flippingBit(_ bit: Int = 0, ofByte index: Int, in bytes: [UInt8]) -> [UInt8] {
    var copy = bytes
    copy[index] ^= UInt8(1) << UInt8(bit)
    return copy
}

extension CryptoError {
    var isInvalidPEM: Bool {
        if case .invalidPEM = self { return true }
        return false
    }

    var isInvalidInput: Bool {
        if case .invalidInput = self { return true }
        return false
    }
}

/// Runs `body` on its own thread and waits at most `seconds` for it. Nil means it did not return
/// in time (the thread is abandoned), which lets a test fail instead of hanging the whole run.
func withDeadline<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () throws -> T) -> Result<T, any Error>? {
    let box = DeadlineBox<T>()
    let finished = DispatchSemaphore(value: 0)
    let thread = Thread {
        box.set(Result { try body() })
        finished.signal()
    }
    thread.start()
    guard finished.wait(timeout: .now() + seconds) == .success else { return nil }
    return box.get()
}

private final class DeadlineBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<T, any Error>?

    func set(_ result: Result<T, any Error>) {
        lock.lock()
        value = result
        lock.unlock()
    }

    func get() -> Result<T, any Error>? {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
