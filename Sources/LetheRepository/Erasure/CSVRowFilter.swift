import LetheStore

/// Removes the rows of a CSV file (RFC 4180: comma-separated, fields optionally in double
/// quotes with `""` for a quote, CRLF, LF or CR line ends, a header row naming the columns)
/// whose field in `column` is exactly `value`. Every other byte is kept as it was: the header,
/// the other rows, their quoting and line ends.
enum CSVRowFilter {
    /// The file without the matching rows, and how many were removed. A file without the
    /// column fails: the rule no longer applies to it, and a guess could release the row.
    static func filter(_ bytes: [UInt8], column: String, value: String, path: String) throws -> (bytes: [UInt8], removed: Int) {
        let records = try split(bytes, path: path)
        guard let header = records.first else {
            throw LetheError.failed("erasure: \(path) is an empty CSV file, which has no column \(column)")
        }
        var names = header.fields.map { String(decoding: $0, as: UTF8.self) }
        if let first = names.first, first.hasPrefix("\u{FEFF}") { names[0] = String(first.dropFirst()) }
        guard let position = names.firstIndex(of: column) else {
            throw LetheError.failed("erasure: \(path) has no column \(column) (its header has \(names.count) columns); the rule no longer applies, so the file is not released")
        }
        let wanted = Array(value.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var removed = 0
        for (offset, record) in records.enumerated() {
            if offset > 0, position < record.fields.count, record.fields[position] == wanted {
                removed += 1
                continue
            }
            out.append(contentsOf: bytes[record.range])
        }
        return (out, removed)
    }

    struct Record {
        /// The record's bytes, its line end included.
        let range: Range<Int>
        /// Each field's value, unquoted.
        let fields: [[UInt8]]
    }

    /// The records of `bytes`, each with its byte range. A quote left open is an error: the
    /// rest of the file would be one field, and rows could hide inside it.
    static func split(_ bytes: [UInt8], path: String) throws -> [Record] {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        var records: [Record] = []
        var start = 0
        var fields: [[UInt8]] = []
        var field: [UInt8] = []
        var index = 0
        var quoted = false
        while index < bytes.count {
            let byte = bytes[index]
            if quoted {
                if byte == quote {
                    if index + 1 < bytes.count, bytes[index + 1] == quote {
                        field.append(quote)
                        index += 2
                        continue
                    }
                    quoted = false
                } else {
                    field.append(byte)
                }
                index += 1
                continue
            }
            switch byte {
            case quote:
                quoted = true
                index += 1
            case comma:
                fields.append(field)
                field = []
                index += 1
            case cr, lf:
                // CRLF, LF, or a lone CR (old Mac line ends): each ends the record. Taking a
                // lone CR as field data would make the whole file one record and remove nothing.
                index += byte == cr && index + 1 < bytes.count && bytes[index + 1] == lf ? 2 : 1
                fields.append(field)
                records.append(Record(range: start..<index, fields: fields))
                fields = []
                field = []
                start = index
            default:
                field.append(byte)
                index += 1
            }
        }
        guard !quoted else { throw LetheError.failed("erasure: \(path) is not a CSV file this rule can read (a quoted field is never closed)") }
        if start < bytes.count {
            fields.append(field)
            records.append(Record(range: start..<bytes.count, fields: fields))
        }
        return records
    }
}
