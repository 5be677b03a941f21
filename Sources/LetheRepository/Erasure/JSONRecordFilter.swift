import Foundation
import LetheStore

/// Removes the records whose top-level field `field` is exactly `value` (a string, or an
/// integer written in decimal) from a JSON file holding an array of objects, or from a JSON
/// Lines file (one object per line). Every other byte is kept: the kept records, the
/// whitespace and separators between them, the brackets.
enum JSONRecordFilter {
    static func filter(_ bytes: [UInt8], field: String, value: String, path: String) throws -> (bytes: [UInt8], removed: Int) {
        let first = bytes.first { !isSpace($0) }
        if first == UInt8(ascii: "[") {
            return try filterArray(bytes, field: field, value: value, path: path)
        }
        return try filterLines(bytes, field: field, value: value, path: path)
    }

    static func matches(_ object: Any, field: String, value: String) -> Bool {
        guard let object = object as? [String: Any], let found = object[field] else { return false }
        if let text = found as? String { return text == value }
        // Booleans are NSNumbers too, of type "c"; only whole numbers compare, in decimal.
        if let number = found as? NSNumber, String(cString: number.objCType) != "c",
           let integer = Int64(exactly: number.doubleValue) {
            return String(integer) == value
        }
        return false
    }

    private static func notJSON(_ path: String) -> LetheError {
        LetheError.failed("erasure: \(path) is neither a JSON array of objects nor JSON Lines; the rule cannot be applied, so the file is not released")
    }

    private static func filterArray(_ bytes: [UInt8], field: String, value: String, path: String) throws -> (bytes: [UInt8], removed: Int) {
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as? [Any] else {
            throw notJSON(path)
        }
        let elements = try elementRanges(bytes, path: path)
        guard elements.count == parsed.count else { throw notJSON(path) }
        let keep = parsed.map { !matches($0, field: field, value: value) }
        let removed = keep.filter { !$0 }.count
        guard removed > 0, let firstElement = elements.first, let lastElement = elements.last else { return (bytes, 0) }
        // Before the first element, then the kept elements with the separator that followed
        // each in the file, then what followed the last element.
        var out = Array(bytes[0..<firstElement.lowerBound])
        let kept = elements.indices.filter { keep[$0] }
        for (position, index) in kept.enumerated() {
            out += bytes[elements[index]]
            if position < kept.count - 1 { out += bytes[elements[index].upperBound..<elements[index + 1].lowerBound] }
        }
        out += bytes[lastElement.upperBound...]
        return (out, removed)
    }

    /// The byte range of each element of the top-level array of `bytes`, which is valid JSON.
    private static func elementRanges(_ bytes: [UInt8], path: String) throws -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var index = bytes.firstIndex(of: UInt8(ascii: "["))! + 1
        var depth = 0
        var start: Int?
        var end = index
        var inString = false
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if byte == UInt8(ascii: "\\") { index += 2; continue }
                if byte == UInt8(ascii: "\"") { inString = false; end = index + 1 }
                index += 1
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                if start == nil { start = index }
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                if start == nil { start = index }
                depth += 1
            case UInt8(ascii: "}") where depth > 0, UInt8(ascii: "]") where depth > 0:
                depth -= 1
                end = index + 1
            case UInt8(ascii: "]") where depth == 0, UInt8(ascii: ",") where depth == 0:
                if let begin = start { ranges.append(begin..<end) }
                start = nil
                if byte == UInt8(ascii: "]") { return ranges }
            default:
                if !isSpace(byte) {
                    if start == nil { start = index }
                    end = index + 1
                }
            }
            index += 1
        }
        throw notJSON(path)
    }

    private static func filterLines(_ bytes: [UInt8], field: String, value: String, path: String) throws -> (bytes: [UInt8], removed: Int) {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var removed = 0
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? bytes.count
            let line = bytes[start..<end]
            if line.contains(where: { !isSpace($0) }) {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)), object is [String: Any] else { throw notJSON(path) }
                if matches(object, field: field, value: value) {
                    removed += 1
                    start = end
                    continue
                }
            }
            out += line
            start = end
        }
        return (out, removed)
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0a || byte == 0x0d || byte == 0x09
    }
}
