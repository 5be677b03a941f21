import Foundation

/// The JSON that `--json` prints: pretty, key-sorted, and with every absent value written as
/// an explicit `null` rather than left out, so that a field a schema in docs/schema/ names is
/// always there and a consumer never has to tell "absent" from "not known to this version".
///
/// Synthesized `Encodable` conformances write an optional property with `encodeIfPresent`,
/// which skips nil. The value is therefore first encoded into a `JSONNode` tree by a small
/// encoder whose keyed containers turn `encodeIfPresent(nil)` into `null`, and the tree is then
/// written by `JSONEncoder`, so numbers, strings and escaping are exactly JSONEncoder's.
enum JSONOutput {
    static func string<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try data(value), as: UTF8.self)
    }

    static func data<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(try NullEmittingEncoder.tree(value))
    }
}

/// One value of a JSON document being built. Containers fill their node in place, so a listing
/// of a million entries is built in linear time; `JSONEncoder` then writes the finished tree,
/// scalars as their Swift values, so it formats them as it would have without the detour.
final class JSONNode: Encodable {
    private enum Kind { case null, scalar, array, object }
    private var kind = Kind.object
    private var scalar: (any Encodable)?
    fileprivate var elements: [JSONNode] = []
    fileprivate var members: [String: JSONNode] = [:]

    func setNull() { (kind, scalar) = (.null, nil) }
    func setScalar(_ value: any Encodable) { (kind, scalar) = (.scalar, value) }
    func makeArray() { if kind != .array { (kind, elements) = (.array, []) } }
    /// An object keeps what it holds when asked for again (a subclass encoding after its superclass).
    func makeObject() { if kind != .object { (kind, members) = (.object, [:]) } }

    func encode(to encoder: any Encoder) throws {
        switch kind {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .scalar:
            // Through a container, not value.encode(to:): JSONEncoder gives Data, URL and Date
            // their own forms only in its containers.
            var container = encoder.singleValueContainer()
            try container.encode(scalar!)
        case .array:
            var container = encoder.unkeyedContainer()
            for element in elements { try container.encode(element) }
        case .object:
            var container = encoder.container(keyedBy: JSONKey.self)
            for (key, member) in members { try container.encode(member, forKey: JSONKey(key)) }
        }
    }
}

struct JSONKey: CodingKey {
    let stringValue: String
    let intValue: Int? = nil
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { stringValue = String(intValue) }
}

/// Encodes any `Encodable` into a `JSONNode`, writing nil optionals as `null`.
final class NullEmittingEncoder: Encoder {
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any] = [:]
    private let node: JSONNode

    private init(node: JSONNode, codingPath: [any CodingKey]) {
        self.node = node
        self.codingPath = codingPath
    }

    static func tree<T: Encodable>(_ value: T) throws -> JSONNode {
        let node = JSONNode()
        try fill(node, with: value, codingPath: [])
        return node
    }

    fileprivate static func fill<T: Encodable>(_ node: JSONNode, with value: T, codingPath: [any CodingKey]) throws {
        // Types JSONEncoder writes in a form of its own (Data as base64, URL as a string) are
        // left to it.
        if value is Data || value is URL || value is Decimal || value is Date {
            node.setScalar(value)
        } else {
            try value.encode(to: NullEmittingEncoder(node: node, codingPath: codingPath))
        }
    }

    fileprivate static func child<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws -> JSONNode {
        let node = JSONNode()
        try fill(node, with: value, codingPath: codingPath)
        return node
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.makeObject()
        return KeyedEncodingContainer(Keyed<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.makeArray()
        return Unkeyed(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        Single(node: node, codingPath: codingPath)
    }

    private struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let node: JSONNode
        let codingPath: [any CodingKey]

        private func set(_ key: Key, _ fill: (JSONNode) -> Void) {
            let member = JSONNode()
            fill(member)
            node.members[key.stringValue] = member
        }

        mutating func encodeNil(forKey key: Key) throws { set(key) { $0.setNull() } }
        mutating func encode(_ value: Bool, forKey key: Key) throws { set(key) { $0.setScalar(value) } }
        mutating func encode(_ value: String, forKey key: Key) throws { set(key) { $0.setScalar(value) } }
        mutating func encode(_ value: Double, forKey key: Key) throws { set(key) { $0.setScalar(value) } }
        mutating func encode(_ value: Float, forKey key: Key) throws { set(key) { $0.setScalar(value) } }
        mutating func encode(_ value: Int, forKey key: Key) throws { set(key) { $0.setScalar(value) } }
        mutating func encode(_ value: Int8, forKey key: Key) throws { set(key) { $0.setScalar(value) } }
        mutating func encode(_ value: Int16, forKey key: Key) throws { set(key) { $0.setScalar(value) } }
        mutating func encode(_ value: Int32, forKey key: Key) throws { set(key) { $0.setScalar(value) } }
        mutating func encode(_ value: Int64, forKey key: Key) throws { set(key) { $0.setScalar(value) } }
        mutating func encode(_ value: UInt, forKey key: Key) throws { set(key) { $0.setScalar(value) } }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { set(key) { $0.setScalar(value) } }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { set(key) { $0.setScalar(value) } }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { set(key) { $0.setScalar(value) } }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { set(key) { $0.setScalar(value) } }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            node.members[key.stringValue] = try NullEmittingEncoder.child(value, codingPath: codingPath + [key])
        }

        // The point of this encoder: an absent optional is written as null, not left out.
        private mutating func present<T: Encodable>(_ value: T?, _ key: Key) throws {
            if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
        }
        mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws { try present(value, key) }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            let member = JSONNode()
            node.members[key.stringValue] = member
            return KeyedEncodingContainer(Keyed<NestedKey>(node: member, codingPath: codingPath + [key]))
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let member = JSONNode()
            member.makeArray()
            node.members[key.stringValue] = member
            return Unkeyed(node: member, codingPath: codingPath + [key])
        }

        mutating func superEncoder() -> any Encoder {
            superEncoder(forKey: Key(stringValue: "super")!)
        }

        mutating func superEncoder(forKey key: Key) -> any Encoder {
            let member = JSONNode()
            node.members[key.stringValue] = member
            return NullEmittingEncoder(node: member, codingPath: codingPath + [key])
        }
    }

    private struct Unkeyed: UnkeyedEncodingContainer {
        let node: JSONNode
        let codingPath: [any CodingKey]

        var count: Int { node.elements.count }

        private var indexKey: JSONKey { JSONKey("\(node.elements.count)") }

        private func append(_ fill: (JSONNode) -> Void) {
            let element = JSONNode()
            fill(element)
            node.elements.append(element)
        }

        mutating func encodeNil() throws { append { $0.setNull() } }
        mutating func encode(_ value: Bool) throws { append { $0.setScalar(value) } }
        mutating func encode(_ value: String) throws { append { $0.setScalar(value) } }
        mutating func encode(_ value: Double) throws { append { $0.setScalar(value) } }
        mutating func encode(_ value: Float) throws { append { $0.setScalar(value) } }
        mutating func encode(_ value: Int) throws { append { $0.setScalar(value) } }
        mutating func encode(_ value: Int8) throws { append { $0.setScalar(value) } }
        mutating func encode(_ value: Int16) throws { append { $0.setScalar(value) } }
        mutating func encode(_ value: Int32) throws { append { $0.setScalar(value) } }
        mutating func encode(_ value: Int64) throws { append { $0.setScalar(value) } }
        mutating func encode(_ value: UInt) throws { append { $0.setScalar(value) } }
        mutating func encode(_ value: UInt8) throws { append { $0.setScalar(value) } }
        mutating func encode(_ value: UInt16) throws { append { $0.setScalar(value) } }
        mutating func encode(_ value: UInt32) throws { append { $0.setScalar(value) } }
        mutating func encode(_ value: UInt64) throws { append { $0.setScalar(value) } }
        mutating func encode<T: Encodable>(_ value: T) throws {
            node.elements.append(try NullEmittingEncoder.child(value, codingPath: codingPath + [indexKey]))
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            let element = JSONNode()
            let path = codingPath + [indexKey]
            node.elements.append(element)
            return KeyedEncodingContainer(Keyed<NestedKey>(node: element, codingPath: path))
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let element = JSONNode()
            element.makeArray()
            let path = codingPath + [indexKey]
            node.elements.append(element)
            return Unkeyed(node: element, codingPath: path)
        }

        mutating func superEncoder() -> any Encoder {
            let element = JSONNode()
            let path = codingPath + [indexKey]
            node.elements.append(element)
            return NullEmittingEncoder(node: element, codingPath: path)
        }
    }

    private struct Single: SingleValueEncodingContainer {
        let node: JSONNode
        let codingPath: [any CodingKey]

        mutating func encodeNil() throws { node.setNull() }
        mutating func encode(_ value: Bool) throws { node.setScalar(value) }
        mutating func encode(_ value: String) throws { node.setScalar(value) }
        mutating func encode(_ value: Double) throws { node.setScalar(value) }
        mutating func encode(_ value: Float) throws { node.setScalar(value) }
        mutating func encode(_ value: Int) throws { node.setScalar(value) }
        mutating func encode(_ value: Int8) throws { node.setScalar(value) }
        mutating func encode(_ value: Int16) throws { node.setScalar(value) }
        mutating func encode(_ value: Int32) throws { node.setScalar(value) }
        mutating func encode(_ value: Int64) throws { node.setScalar(value) }
        mutating func encode(_ value: UInt) throws { node.setScalar(value) }
        mutating func encode(_ value: UInt8) throws { node.setScalar(value) }
        mutating func encode(_ value: UInt16) throws { node.setScalar(value) }
        mutating func encode(_ value: UInt32) throws { node.setScalar(value) }
        mutating func encode(_ value: UInt64) throws { node.setScalar(value) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            try NullEmittingEncoder.fill(node, with: value, codingPath: codingPath)
        }
    }
}
