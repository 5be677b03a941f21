import Foundation
import LetheStore
import Testing

@Suite struct ClockTests {
    @Test(arguments: ["2026-03-01T02:00:00Z", "1970-01-01T00:00:00Z", "2099-12-31T23:59:59Z"])
    func timestampsRoundTrip(_ text: String) throws {
        let date = try #require(Timestamp.parse(text))
        #expect(Timestamp.format(date) == text)
    }

    @Test func parsedTimestampsAreUTC() throws {
        let date = try #require(Timestamp.parse("2026-03-01T02:00:00Z"))
        #expect(date.timeIntervalSince1970 == 1_772_330_400)
    }

    @Test func aDateAloneMeansMidnightUTC() {
        #expect(Timestamp.parse("2026-03-01") != nil)
        #expect(Timestamp.parse("2026-03-01") == Timestamp.parse("2026-03-01T00:00:00Z"))
    }

    @Test func preciseTimestampsKeepMilliseconds() throws {
        let date = try #require(Timestamp.parse("2026-03-01T02:00:00Z")).addingTimeInterval(0.25)
        let text = Timestamp.formatPrecise(date)
        #expect(text == "2026-03-01T02:00:00.250Z")
        #expect(Timestamp.parse(text) == date)
    }

    @Test(arguments: ["yesterday", "", "2026-13-01", "1772330400"])
    func nonsenseDoesNotParse(_ text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    /// "A date alone" is taken as midnight; a date followed by a time the parser does not
    /// understand must not silently become midnight too.
    @Test(arguments: ["2026-03-01 02:00:00", "2026-03-01T02:00:00", "2026-03-01T02:00", "2026-03-01garbage"])
    func aDateFollowedByMoreTextIsNotTakenAsMidnight(_ text: String) {
        #expect(Timestamp.parse(text) == nil, "\(text) parsed as \(Timestamp.parse(text).map(Timestamp.format) ?? "nil")")
    }

    @Test func aTimeWithAnOffsetIsNeverMisreadAsMidnight() throws {
        let expected = try #require(Timestamp.parse("2026-03-01T03:00:00Z"))
        let parsed = Timestamp.parse("2026-03-01T05:00:00+02:00")
        #expect(parsed == nil || parsed == expected, "parsed as \(parsed.map(Timestamp.format) ?? "nil")")
    }

    /// `isCanonical` answers what printing `parse(text)` back and comparing answers, the check
    /// it replaced in the keystore reader, for times like those the keystore holds: every day
    /// of seven years around leap days (1900 and 2100 are not leap years, 2000 is), fields just
    /// out of range, and whole or round milliseconds (where Foundation's printing is exact).
    @Test func isCanonicalAgreesWithParsingAndPrintingBack() throws {
        func printsBack(_ text: String) -> Bool {
            guard let date = Timestamp.parse(text) else { return false }
            return Timestamp.format(date) == text || Timestamp.formatPrecise(date) == text
        }
        var texts: [String] = []
        for year in [1899, 1900, 1999, 2000, 2024, 2026, 2100] {
            for month in 0...13 {
                for day in [0, 1, 28, 29, 30, 31, 32] {
                    texts.append(String(format: "%04d-%02d-%02dT12:00:00Z", year, month, day))
                }
            }
        }
        texts += ["2026-03-01T23:59:59Z", "2026-03-01T24:00:00Z", "2026-03-01T23:60:00Z", "2026-03-01T23:59:60Z",
                  "2026-03-01T02:00:00.123Z", "2026-03-01T02:00:00.000Z", "2026-03-01T02:00:00.12Z", "2026-03-01T02:00:00Z ",
                  "2026-03-01t02:00:00Z", "2026-03-01T02:00:00+00:00", "2026-03-01", "", "x026-03-01T02:00:00Z"]
        for text in texts {
            #expect(Timestamp.isCanonical(text) == printsBack(text), "\(text)")
        }
        #expect(texts.filter(Timestamp.isCanonical).count > 250)
    }

    @Test func systemClockHonoursLETHE_NOWInDebugBuilds() throws {
        let clock = SystemClock(environment: ["LETHE_NOW": "2030-01-01T00:00:00Z"])
        let fixed = try #require(Timestamp.parse("2030-01-01T00:00:00Z"))
        #if DEBUG
        #expect(clock.now() == fixed)
        #else
        #expect(clock.now() < fixed)
        #endif
    }

    @Test func systemClockIgnoresAnUnparseableOrMissingLETHE_NOW() {
        for environment in [["LETHE_NOW": "soon"], [:]] {
            let now = SystemClock(environment: environment).now()
            #expect(abs(now.timeIntervalSinceNow) < 60)
        }
    }

    @Test func manualClockSaysWhatItIsTold() {
        let start = Date(timeIntervalSince1970: 1_000_000)
        let clock = ManualClock(start)
        #expect(clock.now() == start)
        clock.advance(by: 90)
        #expect(clock.now() == start.addingTimeInterval(90))
    }
}
