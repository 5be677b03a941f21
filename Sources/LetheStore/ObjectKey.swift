/// The name of an object in the store: `/`-separated components such as
/// `tenants/acme/data/3f/3f9a…`.
///
/// A key that validated itself cannot escape the store's root or collide with the store's
/// own bookkeeping: every component is 1 to 128 characters of `A–Z a–z 0–9 . _ -`, does not
/// start with a dot, and there are no empty components.
public struct ObjectKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) throws {
        let parts = rawValue.split(separator: "/", omittingEmptySubsequences: false)
        guard !parts.isEmpty, parts.allSatisfy(ObjectKey.isValidComponent) else {
            throw InvalidObjectKey(key: rawValue)
        }
        self.rawValue = rawValue
    }

    /// The key of `component` inside this one (`tenants` + `acme` = `tenants/acme`).
    public func appending(_ component: String) throws -> ObjectKey {
        try ObjectKey("\(rawValue)/\(component)")
    }

    /// The last component.
    public var name: String {
        String(rawValue.split(separator: "/").last!)
    }

    /// True when this key is `prefix` itself or lies below it.
    public func isInside(_ prefix: ObjectKey) -> Bool {
        rawValue == prefix.rawValue || rawValue.hasPrefix(prefix.rawValue + "/")
    }

    public var description: String { rawValue }

    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool {
        lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8)
    }

    static func isValidComponent(_ component: Substring) -> Bool {
        guard (1...128).contains(component.utf8.count), component.first != "." else { return false }
        return component.utf8.allSatisfy { c in
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }
}

public struct InvalidObjectKey: Error, Equatable, Sendable, CustomStringConvertible {
    public let key: String
    public var description: String { "invalid object key \"\(key)\"" }
}
