import Foundation

/// Hands out 0, 1, 2, … to workers pulling jobs from a shared list, each number once.
public final class WorkCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    public init() {}

    /// The next job number below `limit`, or nil when every job has been taken.
    public func take(below limit: Int) -> Int? {
        lock.withLock {
            guard value < limit else { return nil }
            defer { value += 1 }
            return value
        }
    }
}
