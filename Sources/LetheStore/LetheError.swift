/// An error of Lethe's own domain (tenants, lifecycle, repository, destruction), carrying its
/// category so the CLI can map it to an exit code, and a one-line message naming the thing
/// concerned.
public struct LetheError: KindedError, Equatable, Sendable, CustomStringConvertible {
    public typealias Kind = ErrorKind

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    public static func usage(_ message: String) -> LetheError { LetheError(.usage, message) }
    public static func integrity(_ message: String) -> LetheError { LetheError(.integrity, message) }
    public static func refused(_ message: String) -> LetheError { LetheError(.refused, message) }
    public static func failed(_ message: String) -> LetheError { LetheError(.failed, message) }
}
