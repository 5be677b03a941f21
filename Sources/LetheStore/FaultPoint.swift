import Glibc

/// Named points inside long operations where tests simulate a crash.
///
/// In debug builds, when the environment variable `LETHE_CRASH_AT` names a point, the process
/// ends there at once with `_exit(86)`: no cleanup, no buffered output, no atexit handlers,
/// which is what a `kill -9` or a power cut leaves behind. `LETHE_CRASH_AT=name#3` crashes on
/// the third time the point is reached. Release builds compile this to nothing.
public enum FaultPoint {
    public static let crashStatus: Int32 = 86

    public static func reach(_ name: String) {
        #if DEBUG
        guard let spec = getenv("LETHE_CRASH_AT").map({ String(cString: $0) }) else { return }
        let parts = spec.split(separator: "#")
        guard parts.first.map(String.init) == name else { return }
        let wanted = parts.count > 1 ? Int(parts[1]) ?? 1 : 1
        if Counter.increment(name) == wanted { _exit(crashStatus) }
        #endif
    }

    #if DEBUG
    private enum Counter {
        nonisolated(unsafe) private static var counts: [String: Int] = [:]
        private static let lock = Mutex()

        static func increment(_ name: String) -> Int {
            lock.locked {
                counts[name, default: 0] += 1
                return counts[name]!
            }
        }
    }
    #endif
}

/// A pthread mutex, for the few places that guard shared state without Foundation.
final class Mutex: @unchecked Sendable {
    private var mutex = pthread_mutex_t()

    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}
