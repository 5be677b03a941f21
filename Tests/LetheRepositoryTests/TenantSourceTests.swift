import LetheStore
import Testing
@testable import LetheRepository

@Suite struct TenantSourceTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let spec: String
        let kind: TenantSource.Kind
        let location: String
        let name: String?
        let entryName: String?
        var testDescription: String { spec }
    }

    @Test(arguments: [
        Case(spec: "dir:/x", kind: .directory, location: "/x", name: nil, entryName: nil),
        Case(spec: "/x", kind: .directory, location: "/x", name: nil, entryName: nil),
        Case(spec: "/srv/a b/ü", kind: .directory, location: "/srv/a b/ü", name: nil, entryName: nil),
        Case(spec: "sqlite:/a/b.db", kind: .sqlite, location: "/a/b.db", name: nil, entryName: "b.db"),
        Case(spec: "cmd:pg_dump x", kind: .command, location: "pg_dump x", name: nil, entryName: "command-output"),
        Case(spec: "db=sqlite:/a/b.db", kind: .sqlite, location: "/a/b.db", name: "db", entryName: "db"),
        Case(spec: "out=cmd:echo a=b", kind: .command, location: "echo a=b", name: "out", entryName: "out"),
        Case(spec: "cmd:echo a:b", kind: .command, location: "echo a:b", name: nil, entryName: "command-output"),
        Case(spec: "files=dir:/srv/acme", kind: .directory, location: "/srv/acme", name: "files", entryName: "files"),
    ])
    func specsParse(_ expected: Case) throws {
        let source = try TenantSource(spec: expected.spec)
        #expect(source.kind == expected.kind)
        #expect(source.location == expected.location)
        #expect(source.name == expected.name)
        #expect(source.entryName == expected.entryName)
        #expect(try TenantSource(spec: source.description) == source, "the description parses back")
    }

    @Test func relativePathsBecomeAbsolute() throws {
        let cwd = FileSystem.absolute(".")
        let dotted = try TenantSource(spec: "./data").location
        #expect(dotted.hasPrefix("\(cwd)/") && dotted.hasSuffix("/data"))
        #expect(try TenantSource(spec: "dir:data").location == "\(cwd)/data")
        #expect(try TenantSource(spec: "sqlite:app.db").location == "\(cwd)/app.db")
        #expect(try TenantSource(spec: "cmd:./dump.sh").location == "./dump.sh", "a command is left alone")
    }

    @Test(arguments: ["ftp:x", "dir:", "sqlite:", "cmd:", "a/b=dir:/x", "=dir:/x", "..=dir:/x", ".=dir:/x", "x", "", "DIR:/x"])
    func badSpecsAreUsageErrors(_ spec: String) {
        let error = #expect(throws: LetheError.self) { _ = try TenantSource(spec: spec) }
        #expect(error?.kind == .usage)
    }

    @Test func descriptionsAreTheCanonicalSpec() {
        #expect(TenantSource(kind: .command, location: "pg_dump acme", name: "db").description == "db=cmd:pg_dump acme")
        #expect(TenantSource(kind: .directory, location: "/srv").description == "dir:/srv")
    }
}
