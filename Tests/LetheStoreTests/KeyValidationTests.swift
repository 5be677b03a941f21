import LetheStore
import Testing

@Suite struct KeyValidationTests {
    @Test(arguments: ["tenants", "tenants/acme/data/3f/abc", "a.b_c-d", "audit/entries/00000000000000000001"])
    func validObjectKeys(_ key: String) throws {
        #expect(try ObjectKey(key).rawValue == key)
    }

    @Test(arguments: ["", "/tenants", "tenants/", "a//b", "a/../b", "..", ".", "a/.hidden", "with space", "ünï", "a\\b",
                      "x/" + String(repeating: "y", count: 129)])
    func invalidObjectKeys(_ key: String) {
        #expect(throws: InvalidObjectKey.self) { _ = try ObjectKey(key) }
    }

    @Test(arguments: ["acme", "tenant-001", "a", "0day", "client_7.eu", String(repeating: "z", count: 64)])
    func validTenantIDs(_ id: String) throws {
        #expect(try TenantID(id).storePrefix.rawValue == "tenants/\(id)")
    }

    @Test(arguments: ["", "../x", "a/b", "Acme", "-x", ".x", "_x", "a b", "müller", String(repeating: "z", count: 65)])
    func invalidTenantIDs(_ id: String) {
        #expect(throws: InvalidTenantID.self) { _ = try TenantID(id) }
    }

    @Test func keyInsidePrefix() throws {
        let prefix = try ObjectKey("tenants/a")
        #expect(try ObjectKey("tenants/a/x").isInside(prefix))
        #expect(try ObjectKey("tenants/a").isInside(prefix))
        #expect(try !ObjectKey("tenants/ab/x").isInside(prefix))
    }
}
