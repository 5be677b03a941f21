import LetheStore
import Testing

@Suite struct ObjectKeyTests {
    @Test(arguments: [
        "tenants", "tenants/acme/data/3f/abc", "a.b_c-d", "audit/entries/00000000000000000001", "UPPER/lower/09",
        "a..b", "x/" + String(repeating: "y", count: 128),
    ])
    func validKeysAreKeptAsGiven(_ key: String) throws {
        #expect(try ObjectKey(key).rawValue == key)
    }

    @Test(arguments: [
        "", "/tenants", "tenants/", "a//b", "a/../b", "..", ".", "a/.", "a/.hidden", ".staging", ".staging/x",
        "with space", "a\tb", "ünï", "a/日本", "a\\b", "a:b", "a\u{0}b",
        "x/" + String(repeating: "y", count: 129),
    ])
    func invalidKeysAreRefused(_ key: String) {
        let error = #expect(throws: InvalidObjectKey.self) { _ = try ObjectKey(key) }
        #expect(error?.key == key)
    }

    @Test func appendingValidatesTheNewComponent() throws {
        let prefix = try ObjectKey("tenants/acme")
        #expect(try prefix.appending("tenant").rawValue == "tenants/acme/tenant")
        #expect(throws: InvalidObjectKey.self) { _ = try prefix.appending("..") }
        #expect(throws: InvalidObjectKey.self) { _ = try prefix.appending("a/../../b") }
        #expect(throws: InvalidObjectKey.self) { _ = try prefix.appending("") }
    }

    @Test func nameIsTheLastComponent() throws {
        #expect(try ObjectKey("tenants/acme/snapshots/abc").name == "abc")
        #expect(try ObjectKey("single").name == "single")
    }

    @Test func isInsideMeansThePrefixItselfOrBelowIt() throws {
        let prefix = try ObjectKey("tenants/a")
        #expect(try ObjectKey("tenants/a/x").isInside(prefix))
        #expect(try ObjectKey("tenants/a").isInside(prefix))
        #expect(try !ObjectKey("tenants/ab/x").isInside(prefix))
        #expect(try !ObjectKey("tenants").isInside(prefix))
    }

    @Test func keysOrderByBytes() throws {
        let keys = try ["b", "a/z", "a", "B", "a-b"].map { try ObjectKey($0) }
        #expect(keys.sorted().map(\.rawValue) == ["B", "a", "a-b", "a/z", "b"])
    }
}
