import Foundation
import Testing

/// Every error type of Lethe says which exit code it means (`KindedError`), so that a new
/// error cannot silently become "operation failed" (exit 1).
@Suite struct ErrorKindCoverageTests {
    @Test func everyErrorTypeInSourcesDeclaresItsKind() throws {
        let sources = "\(E2EHome.repository)/Sources"
        var declared: [String] = []
        var kinded = Set<String>()
        let declaration = try NSRegularExpression(pattern: #"(?:struct|enum|class)\s+(\w+)\s*:\s*([^{]*)\{"#)
        let conformance = try NSRegularExpression(pattern: #"extension\s+(\w+)\s*:\s*KindedError"#)
        for path in FileManager.default.subpaths(atPath: sources) ?? [] where path.hasSuffix(".swift") {
            let text = try String(contentsOfFile: "\(sources)/\(path)", encoding: .utf8)
            let range = NSRange(text.startIndex..., in: text)
            for match in declaration.matches(in: text, range: range) {
                let name = String(text[Range(match.range(at: 1), in: text)!])
                let inherits = text[Range(match.range(at: 2), in: text)!].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                if inherits.contains("KindedError") { kinded.insert(name) } else if inherits.contains("Error") { declared.append(name) }
            }
            for match in conformance.matches(in: text, range: range) {
                kinded.insert(String(text[Range(match.range(at: 1), in: text)!]))
            }
        }
        let missing = declared.filter { !kinded.contains($0) }
        #expect(missing.isEmpty, "error types without a KindedError conformance: \(missing)")
        #expect(kinded.count >= 10, "the scan found the conformances (\(kinded.count))")
    }
}
