import CLibCrypto

/// Helpers shared by every wrapper around a libcrypto call.
///
/// libcrypto reports failure through return codes and a thread-local error queue; these two
/// functions turn that into a `CryptoError` and leave the queue empty, so that a stale error
/// never surfaces in an unrelated call later.
enum LibCrypto {
    /// Throws `CryptoError.library` unless `returnCode` is 1 (libcrypto's success value).
    static func check(_ returnCode: Int32, _ function: String) throws {
        guard returnCode == 1 else { throw failure(function) }
    }

    /// Unwraps a pointer that libcrypto returns, or throws if it returned NULL.
    static func check<T>(_ pointer: T?, _ function: String) throws -> T {
        guard let pointer else { throw failure(function) }
        return pointer
    }

    /// Builds an error from the oldest entry of the error queue and clears the queue.
    static func failure(_ function: String) -> CryptoError {
        let code = ERR_get_error()
        var reason = "unknown error"
        if code != 0, let text = ERR_reason_error_string(code) {
            reason = String(cString: text)
        }
        ERR_clear_error()
        return .library(function: function, reason: reason)
    }

    /// Empties the error queue after a failure that is an expected outcome (a bad tag).
    static func clearErrors() {
        ERR_clear_error()
    }

    /// libcrypto takes lengths as `int`; every caller goes through here to refuse larger inputs.
    static func int32Length(_ count: Int) throws -> Int32 {
        guard let length = Int32(exactly: count) else {
            throw CryptoError.invalidInput("\(count) bytes is larger than libcrypto accepts in one call")
        }
        return length
    }
}
