import CLibCrypto

/// Bytes of secret material that are wiped with `OPENSSL_cleanse` when the last reference to
/// them goes away.
///
/// The buffer is written exactly once, by the closure given to `init`, and is read-only after
/// that; this is what makes sharing between threads safe. Reading happens only inside
/// `withUnsafeBytes`, so no pointer to the secret outlives the call. Copies into `Array` or
/// `Data` would escape the wipe, so this type offers none.
public final class SecureBytes: @unchecked Sendable {
    private let buffer: UnsafeMutableRawBufferPointer
    /// How many bytes of the allocation hold the secret (at most the allocation's size).
    public let count: Int

    /// Allocates `capacity` zeroed bytes and lets `fill` write them; `fill` returns how many it
    /// used. If `fill` throws, the buffer is wiped and released before the error propagates.
    public init(capacity: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(capacity, 1), alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        let used: Int
        do {
            used = try fill(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<capacity]))
        } catch {
            OPENSSL_cleanse(buffer.baseAddress, buffer.count)
            buffer.deallocate()
            throw error
        }
        precondition(used >= 0 && used <= capacity, "SecureBytes fill reported \(used) of \(capacity) bytes")
        self.buffer = buffer
        self.count = used
    }

    /// A copy of `bytes`. The caller remains responsible for wiping its own copy.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        // The closure cannot throw, so neither can this initializer.
        try! self.init(capacity: bytes.count) { target in
            target.copyMemory(from: bytes)
            return bytes.count
        }
    }

    /// Moves `bytes` into secure storage: copies them, then overwrites the array with zeros so
    /// that the only copy left is this one (as long as the array's storage was not shared).
    public convenience init(wiping bytes: inout [UInt8]) {
        let count = bytes.count
        try! self.init(capacity: count) { target in
            bytes.withUnsafeBytes { target.copyMemory(from: $0) }
            return count
        }
        bytes.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
    }

    deinit {
        OPENSSL_cleanse(buffer.baseAddress, buffer.count)
        buffer.deallocate()
    }

    /// Calls `body` with read access to the secret. The pointer must not escape `body`.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
    }
}
