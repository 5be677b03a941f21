import Foundation

/// The JSON that `--json` prints: pretty, key-sorted, and with every absent value written as
/// an explicit `null` rather than left out, so that a field a schema in docs/schema/ names is
/// always there and a consumer never has to tell "absent" from "not known to this version".
///
/// Synthesized `Encodable` conformances write an optional property with `encodeIfPresent`,
/// which skips nil. The value is therefore first encoded into a `JSONValue` tree by a small
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

/// A JSON document as a tree. Scalars keep their Swift value, so `JSONEncoder` formats them as
/// it would have without the detour.
indirect enum JSONValue: Encodable {
    case null
    case scalar(any Encodable)
    case array([JSONValue])
    case object([String: JSONValue])

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .scalar(let value):
            // Through a container, not value.encode(to:): JSONEncoder gives Data, URL and Date
            // their own forms only in its containers.
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .array(let values):
            var container = encoder.unkeyedContainer()
            for value in values { try container.encode(value) }
        case .object(let members):
            var container = encoder.container(keyedBy: JSONKey.self)
            for (key, value) in members { try container.encode(value, forKey: JSONKey(key)) }
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

/// Encodes any `Encodable` into a `JSONValue`, writing nil optionals as `null`. Each encoder
/// hands what it was given to `commit`, which puts it where its parent holds it.
final class NullEmittingEncoder: Encoder {
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any] = [:]
    private let commit: (JSONValue) -> Void
    /// Kept so that a second `container(keyedBy:)` (a subclass encoding after its superclass)
    /// adds to the same object.
    private var object: ObjectBox?

    private init(codingPath: [any CodingKey], commit: @escaping (JSONValue) -> Void) {
        self.codingPath = codingPath
        self.commit = commit
    }

    static func tree<T: Encodable>(_ value: T, codingPath: [any CodingKey] = []) throws -> JSONValue {
        // Types JSONEncoder writes in a form of its own (Data as base64, URL as a string) are
        // left to it.
        if value is Data || value is URL || value is Decimal || value is Date { return .scalar(value) }
        var result = JSONValue.object([:])
        try value.encode(to: NullEmittingEncoder(codingPath: codingPath) { result = $0 })
        return result
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let object = self.object ?? ObjectBox()
        self.object = object
        commit(.object(object.members))
        return KeyedEncodingContainer(Keyed<Key>(object: object, codingPath: codingPath, commit: commit))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        commit(.array([]))
        return Unkeyed(codingPath: codingPath, commit: commit)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        Single(codingPath: codingPath, commit: commit)
    }

    private final class ObjectBox {
        var members: [String: JSONValue] = [:]
    }

    private struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let object: ObjectBox
        let codingPath: [any CodingKey]
        let commit: (JSONValue) -> Void

        fileprivate func set(_ value: JSONValue, _ key: Key) {
            object.members[key.stringValue] = value
            commit(.object(object.members))
        }

        mutating func encodeNil(forKey key: Key) throws { set(.null, key) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { set(.scalar(value), key) }
        mutating func encode(_ value: String, forKey key: Key) throws { set(.scalar(value), key) }
        mutating func encode(_ value: Double, forKey key: Key) throws { set(.scalar(value), key) }
        mutating func encode(_ value: Float, forKey key: Key) throws { set(.scalar(value), key) }
        mutating func encode(_ value: Int, forKey key: Key) throws { set(.scalar(value), key) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { set(.scalar(value), key) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { set(.scalar(value), key) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { set(.scalar(value), key) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { set(.scalar(value), key) }
        mutating func encode(_ value: UInt, forKey key: Key) throws { set(.scalar(value), key) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { set(.scalar(value), key) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { set(.scalar(value), key) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { set(.scalar(value), key) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { set(.scalar(value), key) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            set(try NullEmittingEncoder.tree(value, codingPath: codingPath + [key]), key)
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
            set(.object([:]), key)
            let parent = self
            return KeyedEncodingContainer(Keyed<NestedKey>(object: ObjectBox(), codingPath: codingPath + [key]) { parent.set($0, key) })
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            set(.array([]), key)
            let parent = self
            return Unkeyed(codingPath: codingPath + [key]) { parent.set($0, key) }
        }

        mutating func superEncoder() -> any Encoder {
            superEncoder(forKey: Key(stringValue: "super")!)
        }

        mutating func superEncoder(forKey key: Key) -> any Encoder {
            set(.null, key)
            let parent = self
            return NullEmittingEncoder(codingPath: codingPath + [key]) { parent.set($0, key) }
        }
    }

    private struct Unkeyed: UnkeyedEncodingContainer {
        let codingPath: [any CodingKey]
        private let box = ArrayBox()
        let commit: (JSONValue) -> Void

        init(codingPath: [any CodingKey], commit: @escaping (JSONValue) -> Void) {
            self.codingPath = codingPath
            self.commit = commit
        }

        var count: Int { box.values.count }

        private func append(_ value: JSONValue) {
            box.values.append(value)
            commit(.array(box.values))
        }

        private func replace(at index: Int, _ value: JSONValue) {
            box.values[index] = value
            commit(.array(box.values))
        }

        private var indexKey: JSONKey { JSONKey("\(box.values.count)") }

        mutating func encodeNil() throws { append(.null) }
        mutating func encode(_ value: Bool) throws { append(.scalar(value)) }
        mutating func encode(_ value: String) throws { append(.scalar(value)) }
        mutating func encode(_ value: Double) throws { append(.scalar(value)) }
        mutating func encode(_ value: Float) throws { append(.scalar(value)) }
        mutating func encode(_ value: Int) throws { append(.scalar(value)) }
        mutating func encode(_ value: Int8) throws { append(.scalar(value)) }
        mutating func encode(_ value: Int16) throws { append(.scalar(value)) }
        mutating func encode(_ value: Int32) throws { append(.scalar(value)) }
        mutating func encode(_ value: Int64) throws { append(.scalar(value)) }
        mutating func encode(_ value: UInt) throws { append(.scalar(value)) }
        mutating func encode(_ value: UInt8) throws { append(.scalar(value)) }
        mutating func encode(_ value: UInt16) throws { append(.scalar(value)) }
        mutating func encode(_ value: UInt32) throws { append(.scalar(value)) }
        mutating func encode(_ value: UInt64) throws { append(.scalar(value)) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            append(try NullEmittingEncoder.tree(value, codingPath: codingPath + [indexKey]))
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            let index = box.values.count
            let path = codingPath + [indexKey]
            append(.object([:]))
            let parent = self
            return KeyedEncodingContainer(Keyed<NestedKey>(object: ObjectBox(), codingPath: path) { parent.replace(at: index, $0) })
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let index = box.values.count
            let path = codingPath + [indexKey]
            append(.array([]))
            let parent = self
            return Unkeyed(codingPath: path) { parent.replace(at: index, $0) }
        }

        mutating func superEncoder() -> any Encoder {
            let index = box.values.count
            let path = codingPath + [indexKey]
            append(.null)
            let parent = self
            return NullEmittingEncoder(codingPath: path) { parent.replace(at: index, $0) }
        }
    }

    private final class ArrayBox {
        var values: [JSONValue] = []
    }

    private struct Single: SingleValueEncodingContainer {
        let codingPath: [any CodingKey]
        let commit: (JSONValue) -> Void

        mutating func encodeNil() throws { commit(.null) }
        mutating func encode(_ value: Bool) throws { commit(.scalar(value)) }
        mutating func encode(_ value: String) throws { commit(.scalar(value)) }
        mutating func encode(_ value: Double) throws { commit(.scalar(value)) }
        mutating func encode(_ value: Float) throws { commit(.scalar(value)) }
        mutating func encode(_ value: Int) throws { commit(.scalar(value)) }
        mutating func encode(_ value: Int8) throws { commit(.scalar(value)) }
        mutating func encode(_ value: Int16) throws { commit(.scalar(value)) }
        mutating func encode(_ value: Int32) throws { commit(.scalar(value)) }
        mutating func encode(_ value: Int64) throws { commit(.scalar(value)) }
        mutating func encode(_ value: UInt) throws { commit(.scalar(value)) }
        mutating func encode(_ value: UInt8) throws { commit(.scalar(value)) }
        mutating func encode(_ value: UInt16) throws { commit(.scalar(value)) }
        mutating func encode(_ value: UInt32) throws { commit(.scalar(value)) }
        mutating func encode(_ value: UInt64) throws { commit(.scalar(value)) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            commit(try NullEmittingEncoder.tree(value, codingPath: codingPath))
        }
    }
}
