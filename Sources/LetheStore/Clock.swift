import Foundation

/// The one source of "now" for every time-dependent decision (restore windows, grace
/// periods, retention, report times), so that tests can move time.
public protocol Clock: Sendable {
    func now() -> Date
}

/// The system clock. In debug builds, the environment variable `LETHE_NOW` (ISO 8601, e.g.
/// `2026-03-01T02:00:00Z`) replaces it, so end-to-end tests can place a run on day 89 or 91
/// of a window; release builds ignore the variable, so production time cannot be faked.
public struct SystemClock: Clock {
    private let fixed: Date?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        #if DEBUG
        fixed = environment["LETHE_NOW"].flatMap(Timestamp.parse)
        #else
        fixed = nil
        #endif
    }

    public func now() -> Date {
        fixed ?? Date()
    }
}

/// A clock that says what it is told; for tests.
public final class ManualClock: Clock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    public init(_ start: Date) {
        current = start
    }

    public func now() -> Date {
        lock.withLock { current }
    }

    public func advance(by seconds: TimeInterval) {
        lock.withLock { current += seconds }
    }
}

/// ISO 8601 timestamps in UTC with whole seconds (`2026-03-01T02:00:00Z`), the one textual
/// time format of Lethe's JSON, reports and logs.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// With milliseconds (`2026-03-01T02:00:00.123Z`), for times that order events closer
    /// together than a second, such as two snapshots of one tenant.
    public static func formatPrecise(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Parses exactly the forms Lethe writes: `2026-03-01T02:00:00Z`, the same with
    /// milliseconds (`2026-03-01T02:00:00.123Z`), or a date alone (`2026-03-01`, taken as
    /// midnight UTC). Anything else — a missing zone, trailing text, an hour 25 that a lenient
    /// parser would roll over — is nil, because a misread time moves retention and destruction
    /// decisions: whatever is parsed must print back as the very same text.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        if bytes.count == 10 {
            guard let date = try? Date.ISO8601FormatStyle().year().month().day().parse(text) else { return nil }
            return format(date).hasPrefix(text) ? date : nil
        }
        guard bytes.withUnsafeBufferPointer(fields) != nil else { return nil }
        let date = bytes.count == 20
            ? try? Date(text, strategy: .iso8601)
            : try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
        // Whatever was parsed must print back as the same calendar time (rejects rolled-over fields).
        return date.flatMap { format($0).prefix(19) == text.prefix(19) ? $0 : nil }
    }

    /// Whether `text` has the shape `format` and `formatPrecise` print, with fields that name a
    /// real instant of the proleptic Gregorian calendar (a month's own day count, its leap
    /// years, years 1 to 9999, an hour below 24, no leap second). For the times Lethe writes,
    /// this is the answer printing `parse(text)` back gives, without Foundation's parser, which
    /// cost 15,000 instructions a call: a keystore of 10,000 tenants checks one per entry each
    /// time it is opened. It is not the same check everywhere: it accepts every millisecond
    /// value (Foundation prints some back one lower, `.002` as `.001`), and dates before 1582
    /// by the Gregorian rule where Foundation's calendar is Julian.
    public static func isCanonical(_ text: some StringProtocol) -> Bool {
        var text = String(text)
        return text.withUTF8 { isCanonical(utf8: $0) }
    }

    /// `isCanonical` of text given as its UTF-8 bytes, for readers that hold bytes (the
    /// keystore reads 10,000 creation times at each open).
    public static func isCanonical(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let (year, month, day, hour, minute, second) = fields(bytes) else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return year >= 1 && (1...12).contains(month) && (1...days[month - 1]).contains(day)
            && hour < 24 && minute < 60 && second < 60
    }

    /// The numbers of `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.sssZ`, with nothing before
    /// or after; nil for any other shape. The fields' ranges are not checked here.
    private static func fields(_ bytes: UnsafeBufferPointer<UInt8>) -> (Int, Int, Int, Int, Int, Int)? {
        func digits(_ range: Range<Int>) -> Bool { range.allSatisfy { (48...57).contains(bytes[$0]) } }
        let separators: [(Int, UInt8)] = [(4, 45), (7, 45), (10, 84), (13, 58), (16, 58)]
        guard bytes.count == 20 || bytes.count == 24, digits(0..<4), digits(5..<7), digits(8..<10), digits(11..<13),
              digits(14..<16), digits(17..<19), separators.allSatisfy({ bytes[$0.0] == $0.1 }), bytes.last == 90,
              bytes.count == 20 || (bytes[19] == 46 && digits(20..<23)) else { return nil }
        func number(_ range: Range<Int>) -> Int { range.reduce(0) { $0 * 10 + Int(bytes[$1] - 48) } }
        return (number(0..<4), number(5..<7), number(8..<10), number(11..<13), number(14..<16), number(17..<19))
    }
}
