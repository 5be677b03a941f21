import LetheStore

/// The little binary encoding of pack headers, index files and trees: unsigned LEB128
/// varints, fixed 32-byte identifiers, and length-prefixed byte strings. docs/format.md
/// specifies it for third-party readers.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func varint(_ value: Int) {
        precondition(value >= 0, "varints are unsigned")
        varint(UInt64(value))
    }

    /// A signed value, zig-zag encoded (times before 1970 are legal file times).
    mutating func signed(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func identifier<K>(_ id: Identifier<K>) {
        bytes.append(contentsOf: id.bytes)
    }

    mutating func data(_ value: some Collection<UInt8>) {
        varint(value.count)
        bytes.append(contentsOf: value)
    }

    mutating func string(_ value: String) {
        data(Array(value.utf8))
    }
}

/// Reads what `ByteWriter` wrote; every read checks bounds and throws `MalformedData`
/// instead of trapping, because the input comes from storage and may be hostile.
struct ByteReader {
    private let bytes: [UInt8]
    private var position = 0
    let what: String

    init(_ bytes: [UInt8], what: String) {
        self.bytes = bytes
        self.what = what
    }

    var isAtEnd: Bool { position == bytes.count }

    mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw MalformedData(what: what, reason: "ends early") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            guard shift < 64 else { throw MalformedData(what: what, reason: "varint too long") }
            result |= UInt64(next & 0x7f) << shift
            if next & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// A varint that must fit an `Int` no larger than `limit`.
    mutating func count(limit: Int = Int(Int32.max)) throws -> Int {
        let value = try varint()
        guard value <= UInt64(limit) else { throw MalformedData(what: what, reason: "value \(value) out of range") }
        return Int(value)
    }

    /// The count of the elements that follow, each at least `minimumSize` bytes long: refused
    /// when the bytes left cannot hold that many, so that no allocation is sized by a count
    /// the data merely states.
    mutating func count(limit: Int, elementsOfAtLeast minimumSize: Int) throws -> Int {
        let value = try count(limit: limit)
        let room = (bytes.count - position) / minimumSize
        guard value <= room else {
            throw MalformedData(what: what, reason: "counts \(value) entries where its remaining \(bytes.count - position) bytes hold at most \(room)")
        }
        return value
    }

    mutating func signed() throws -> Int64 {
        let raw = try varint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    mutating func identifier<K>() throws -> Identifier<K> {
        guard bytes.count - position >= 32 else { throw MalformedData(what: what, reason: "ends inside an identifier") }
        defer { position += 32 }
        return Identifier(bytes: bytes[position..<(position + 32)])
    }

    mutating func data(limit: Int = 1 << 24) throws -> [UInt8] {
        let length = try count(limit: limit)
        guard bytes.count - position >= length else { throw MalformedData(what: what, reason: "ends inside a field") }
        defer { position += length }
        return Array(bytes[position..<(position + length)])
    }

    mutating func string(limit: Int = 1 << 16) throws -> String {
        let raw = try data(limit: limit)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw MalformedData(what: what, reason: "a name is not UTF-8")
        }
        return text
    }

    func expectEnd() throws {
        guard isAtEnd else { throw MalformedData(what: what, reason: "has \(bytes.count - position) trailing bytes") }
    }
}

/// Authenticated data that does not parse: only a bug or a forged key could produce it.
public struct MalformedData: KindedError, Equatable, Sendable, CustomStringConvertible {
    public let what: String
    public let reason: String
    public var kind: ErrorKind { .integrity }
    public var description: String { "\(what) is malformed: \(reason)" }
}
