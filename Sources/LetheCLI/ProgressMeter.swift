import Foundation

/// The one line a long operation redraws on a terminal: what is done out of the total, the
/// rate, and the time left.
///
/// `backup: 1.2 GiB of 3.4 GiB (35%), 1,234 of 5,000 files, 48.1 MiB/s, ETA 0:46 — acme`
///
/// Totals may be unknown at first (a backup learns them from a scan that runs beside it) or
/// never known (a command source); the line then shows what is done and the rate, with no
/// ETA. The rate is taken over the last few seconds, so that a slow start does not spoil
/// the estimate for the rest. The line is redrawn at most five times a second, and never when
/// standard error is not a terminal or the command writes JSON.
final class ProgressMeter: @unchecked Sendable {
    private let console: Console
    private let verb: String
    /// What is counted besides bytes: "file", or "pack" for a verification.
    private let unit: String
    private let enabled: Bool
    private let lock = NSLock()
    private var state = State()
    private var lastDrawn = Date.distantPast
    private var samples: [(time: Date, bytes: Int)] = []
    private let started = Date()

    struct State {
        var bytes = 0
        var files = 0
        var totalBytes: Int?
        var totalFiles: Int?
        var detail = ""
    }

    init(console: Console, verb: String, unit: String = "file", json: Bool = false, totalBytes: Int? = nil, totalFiles: Int? = nil) {
        self.console = console
        self.verb = verb
        self.unit = unit
        self.enabled = console.progressEnabled && !json
        state.totalBytes = totalBytes
        state.totalFiles = totalFiles
    }

    /// Sets the totals once they are known.
    func setTotals(bytes: Int?, files: Int?) {
        lock.withLock {
            state.totalBytes = bytes
            state.totalFiles = files
        }
    }

    /// Adds work done (bytes read or written, files finished) and redraws if it is time.
    func advance(bytes: Int = 0, files: Int = 0, detail: String? = nil) {
        update { state in
            state.bytes += bytes
            state.files += files
            if let detail { state.detail = detail }
        }
    }

    /// Replaces what is done, for callers that report running totals.
    func set(bytes: Int, files: Int, detail: String? = nil) {
        update { state in
            state.bytes = bytes
            state.files = files
            if let detail { state.detail = detail }
        }
    }

    /// Removes the line; the command's own output follows.
    func finish() {
        guard enabled else { return }
        console.clearProgress()
    }

    private func update(_ change: (inout State) -> Void) {
        guard enabled else { return }
        let line: String? = lock.withLock {
            change(&state)
            let now = Date()
            guard now.timeIntervalSince(lastDrawn) >= 0.2 else { return nil }
            lastDrawn = now
            samples.append((now, state.bytes))
            samples.removeAll { now.timeIntervalSince($0.time) > 5 }
            return ProgressMeter.line(verb: verb, unit: unit, state: state, rate: rate(now: now))
        }
        if let line { console.progress(line) }
    }

    /// Bytes per second over the samples of the last five seconds (or since the start, early on).
    private func rate(now: Date) -> Double? {
        let (time, bytes) = samples.count > 1 ? (samples[0].time, samples[0].bytes) : (started, 0)
        let seconds = now.timeIntervalSince(time)
        guard seconds >= 0.5 else { return nil }
        return Double(state.bytes - bytes) / seconds
    }

    /// The text of the line; separate from the drawing so that tests can read it.
    static func line(verb: String, unit: String = "file", state: State, rate: Double?) -> String {
        var parts: [String] = []
        if let total = state.totalBytes, total > 0 {
            let percent = min(100, Int((Double(state.bytes) / Double(total) * 100).rounded(.down)))
            parts.append("\(Format.bytes(state.bytes)) of \(Format.bytes(total)) (\(percent)%)")
        } else {
            parts.append(Format.bytes(state.bytes))
        }
        if let total = state.totalFiles {
            parts.append("\(grouped(state.files)) of \(grouped(total)) \(total == 1 ? unit : unit + "s")")
        } else {
            parts.append("\(grouped(state.files)) \(state.files == 1 ? unit : unit + "s")")
        }
        if let rate {
            parts.append("\(Format.bytes(Int(rate)))/s")
            if let total = state.totalBytes, rate > 0, total > state.bytes {
                parts.append("ETA \(clock(Double(total - state.bytes) / rate))")
            }
        }
        let detail = state.detail.isEmpty ? "" : " — \(state.detail)"
        return "\(verb): " + parts.joined(separator: ", ") + detail
    }

    /// `0:46`, `12:05`, `2:03:10`.
    static func clock(_ seconds: Double) -> String {
        let total = Int(min(seconds, 360_000).rounded(.up))
        let (hours, minutes, rest) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, rest) : String(format: "%d:%02d", minutes, rest)
    }

    private static func grouped(_ n: Int) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.groupingSeparator = ","
        return formatter.string(from: NSNumber(value: n)) ?? String(n)
    }
}
