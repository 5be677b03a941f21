import Foundation
import LetheCore
import LetheStore
import Testing
@testable import LetheCLI

/// `JSONOutput` is JSONEncoder's output with every absent optional written as null: checked
/// against JSONEncoder itself, byte for byte where nothing is absent, and value for value with
/// the nulls taken out where something is.
@Suite struct JSONOutputTests {
    enum Colour: String, Codable { case red, green }

    struct Inner: Codable, Equatable {
        var label: String
        var weight: Double?
    }

    struct Everything: Codable {
        var text = "a/b \"quoted\" ünïcödé \u{1F600} \n tab\t"
        var int = -42
        var int64: Int64 = .max
        var uint8: UInt8 = 255
        var double = 0.1
        var bool = true
        var colour = Colour.green
        var list = [1, 2, 3]
        var nested = [[Inner(label: "x", weight: 1.5)], []]
        var map = ["b": Inner(label: "y", weight: 2), "a": Inner(label: "z", weight: 0)]
        var data = Data([0, 1, 2, 250])
        var date = Date(timeIntervalSince1970: 1_700_000_000)
        var url = URL(string: "https://example.com/a?b=c")!
        var tenant = try! TenantID("acme")
    }

    struct Sparse: Codable {
        var present: String? = "here"
        var absent: String?
        var absentNumber: Int?
        var absentObject: Inner?
        var inner = Inner(label: "i", weight: nil)
        var optionals: [Int?] = [1, nil, 3]
        var records: [Inner] = [Inner(label: "r", weight: nil)]
    }

    /// Writes its fields through nested and super containers, as hand-written conformances do.
    struct Containers: Encodable {
        enum Key: String, CodingKey { case outer, list, parent }
        enum InnerKey: String, CodingKey { case a, b }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            var outer = c.nestedContainer(keyedBy: InnerKey.self, forKey: .outer)
            try outer.encode(1, forKey: .a)
            try outer.encodeIfPresent(Optional<String>.none, forKey: .b)
            var list = c.nestedUnkeyedContainer(forKey: .list)
            try list.encode("first")
            var item = list.nestedContainer(keyedBy: InnerKey.self)
            try item.encode("x", forKey: .a)
            var deeper = list.nestedUnkeyedContainer()
            try deeper.encode(true)
            try Inner(label: "from super", weight: 3).encode(to: c.superEncoder(forKey: .parent))
        }
    }

    static func jsonEncoder(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    static func parsed(_ data: Data) throws -> NSObject {
        try #require(try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? NSObject)
    }

    /// The same document with every null member removed (nulls inside arrays are kept, as
    /// JSONEncoder writes them too).
    static func withoutNullMembers(_ value: Any) -> Any {
        if let object = value as? [String: Any] {
            return object.filter { !($0.value is NSNull) }.mapValues(withoutNullMembers)
        }
        if let array = value as? [Any] { return array.map(withoutNullMembers) }
        return value
    }

    @Test func withNothingAbsentTheBytesAreJSONEncoders() throws {
        let value = Everything()
        #expect(try JSONOutput.data(value) == Self.jsonEncoder(value))
        #expect(try JSONOutput.data([value, value]) == Self.jsonEncoder([value, value]))
        #expect(try JSONOutput.data(["k": 1]) == Self.jsonEncoder(["k": 1]))
        #expect(try JSONOutput.data("top level") == Self.jsonEncoder("top level"))
    }

    @Test func absentOptionalsAreWrittenAsNull() throws {
        let object = try #require(try Self.parsed(JSONOutput.data(Sparse())) as? [String: Any])
        #expect(object["present"] as? String == "here")
        for key in ["absent", "absentNumber", "absentObject"] { #expect(object[key] is NSNull, "\(key)") }
        #expect((object["inner"] as? [String: Any])?["weight"] is NSNull)
        #expect(((object["records"] as? [[String: Any]])?.first)?["weight"] is NSNull)
        #expect((object["optionals"] as? [Any]).map { $0.count == 3 && $0[1] is NSNull } == true)
        // Take the nulls out again and it is what JSONEncoder wrote.
        let ours = Self.withoutNullMembers(try Self.parsed(JSONOutput.data(Sparse())))
        #expect((ours as? NSObject) == (try Self.parsed(Self.jsonEncoder(Sparse()))))
    }

    @Test func nestedAndSuperContainersLandWhereJSONEncoderPutsThem() throws {
        let ours = try Self.parsed(JSONOutput.data(Containers()))
        #expect((Self.withoutNullMembers(ours) as? NSObject) == (try Self.parsed(Self.jsonEncoder(Containers()))))
        let outer = try #require((ours as? [String: Any])?["outer"] as? [String: Any])
        #expect(outer["a"] as? Int == 1 && outer["b"] is NSNull)
    }

    /// A fresh tenant record as the CLI prints it: what JSONEncoder leaves out is there, as null.
    @Test func aFreshTenantRecordShowsTheFieldsJSONEncoderLeavesOut() throws {
        let record = TenantRecord(id: try TenantID("acme"), name: "Acme", sources: [], created: "2026-03-01T02:00:00Z", actor: "me")
        let ours = try #require(try Self.parsed(JSONOutput.data(record)) as? [String: Any])
        let theirs = try #require(try Self.parsed(Self.jsonEncoder(record)) as? [String: Any])
        let added = Set(ours.keys).subtracting(theirs.keys)
        #expect(added.contains("offboardedAt") && added.contains("legalHold"), "\(added)")
        for key in added { #expect(ours[key] is NSNull, "\(key)") }
        #expect((Self.withoutNullMembers(ours) as? NSObject) == (theirs as NSObject))
    }
}
