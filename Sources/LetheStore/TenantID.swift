/// A tenant's identifier, validated once at the boundary and trusted everywhere after.
///
/// It names the tenant's prefix in the store (`tenants/<id>/`), its catalog rows, its
/// keystore entry and its lock, so it must never carry a path separator, a traversal, or
/// characters a file system or a bucket would treat specially: 1 to 64 characters of
/// lower-case letters, digits, `-`, `_` and `.`, starting with a letter or digit.
public struct TenantID: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public static let maximumLength = 64

    public init(_ rawValue: String) throws {
        guard TenantID.isValid(rawValue) else { throw InvalidTenantID(value: rawValue) }
        self.rawValue = rawValue
    }

    public static func isValid(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard (1...maximumLength).contains(bytes.count) else { return false }
        func isAlphanumeric(_ c: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c)
        }
        guard isAlphanumeric(bytes[0]) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    /// `tenants/<id>`: everything of this tenant in the store lies below it.
    public var storePrefix: ObjectKey {
        try! ObjectKey("tenants/\(rawValue)")
    }

    public var description: String { rawValue }

    public static func < (lhs: TenantID, rhs: TenantID) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: Decoder) throws {
        let value = try decoder.singleValueContainer().decode(String.self)
        try self.init(value)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

public struct InvalidTenantID: Error, Equatable, Sendable, CustomStringConvertible {
    public let value: String
    public var description: String {
        "invalid tenant id \"\(value)\": use 1 to \(TenantID.maximumLength) characters of a-z, 0-9, '-', '_' and '.', "
            + "starting with a letter or digit"
    }
}
