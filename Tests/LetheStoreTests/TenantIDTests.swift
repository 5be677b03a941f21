import Foundation
import LetheStore
import Testing

@Suite struct TenantIDTests {
    @Test(arguments: ["acme", "tenant-001", "a", "0day", "client_7.eu", "a-", String(repeating: "z", count: 64)])
    func validIDsNameTheirStorePrefix(_ id: String) throws {
        #expect(try TenantID(id).rawValue == id)
        #expect(try TenantID(id).storePrefix.rawValue == "tenants/\(id)")
    }

    @Test(arguments: [
        "", "../x", "..", ".", "a/b", "A", "Acme", "-x", ".x", "_x", "a b", "a\nb", "müller", "日本", "ａ",
        String(repeating: "z", count: 65),
    ])
    func invalidIDsAreRefused(_ id: String) {
        let error = #expect(throws: InvalidTenantID.self) { _ = try TenantID(id) }
        #expect(error?.value == id)
        #expect(!TenantID.isValid(id))
    }

    @Test func refusalNamesTheValueAndExplainsTheRule() {
        let error = #expect(throws: InvalidTenantID.self) { _ = try TenantID("Acme") }
        #expect(error?.description.contains("\"Acme\"") == true)
        #expect(error?.description.contains("a-z") == true)
    }

    @Test func decodingValidatesLikeTheInitializer() throws {
        let decoded = try JSONDecoder().decode([TenantID].self, from: Data(#"["acme"]"#.utf8))
        #expect(decoded == [try TenantID("acme")])
        #expect(throws: InvalidTenantID.self) { _ = try JSONDecoder().decode([TenantID].self, from: Data(#"["../etc"]"#.utf8)) }
        #expect(String(decoding: try JSONEncoder().encode([try TenantID("acme")]), as: UTF8.self) == #"["acme"]"#)
    }
}
