import CLibCrypto

/// Owns one memory `BIO`, the channel through which libcrypto reads and writes PEM and DER.
///
/// Private-key PEM passes through these buffers. libcrypto grows a memory BIO with
/// `BUF_MEM_grow_clean` and releases it with `BUF_MEM_free`, which clears the buffer
/// (`OPENSSL_clear_free`), so freeing in `deinit` leaves no copy behind.
final class MemoryBIO {
    let pointer: OpaquePointer

    /// An empty BIO to write into.
    init() throws {
        pointer = try LibCrypto.check(BIO_new(BIO_s_mem()), "BIO_new")
    }

    /// A BIO holding a copy of `bytes`, to read from.
    init(copying bytes: UnsafeRawBufferPointer) throws {
        pointer = try LibCrypto.check(BIO_new(BIO_s_mem()), "BIO_new")
        if bytes.count > 0 {
            let length = try LibCrypto.int32Length(bytes.count)
            guard BIO_write(pointer, bytes.baseAddress, length) == length else {
                BIO_free(pointer)
                throw LibCrypto.failure("BIO_write")
            }
        }
    }

    /// How many bytes are waiting to be read.
    var pending: Int {
        Int(BIO_ctrl_pending(pointer))
    }

    /// Reads everything that is pending into `buffer`, which must hold `pending` bytes.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws {
        guard buffer.count > 0 else { return }
        let length = try LibCrypto.int32Length(buffer.count)
        guard BIO_read(pointer, buffer.baseAddress, length) == length else {
            throw LibCrypto.failure("BIO_read")
        }
    }

    deinit {
        BIO_free(pointer)
    }
}
