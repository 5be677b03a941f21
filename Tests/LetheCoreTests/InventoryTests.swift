import LetheCore
import LetheCrypto
import LetheStore
import Testing

@Suite struct InventoryTests {
    @Test func digestIsSHA256OfSortedKeySizeHashLines() throws {
        let items = [
            InventoryItem(key: "tenants/b/snapshots/x", size: 10, sha256: "bb"),
            InventoryItem(key: "tenants/b/data/00/y", size: 20, sha256: "aa"),
        ]
        let inventory = try Inventory(objects: items)
        let expected = Hex.encode(try SHA256.hash(Array("tenants/b/data/00/y 20 aa\ntenants/b/snapshots/x 10 bb\n".utf8)))
        #expect(inventory.digest == expected)
        #expect(inventory.objectCount == 2 && inventory.bytes == 30)
        #expect(inventory.objects.map(\.key) == ["tenants/b/data/00/y", "tenants/b/snapshots/x"])
    }

    /// An auditor's `ReportVerifier` recomputes the inventory of a report it was handed: sizes
    /// that overflow are an integrity error, not a trap (found by review of the report target).
    @Test func sizesThatOverflowAreRefused() {
        let huge = InventoryItem(key: "tenants/acme/a", size: Int.max, sha256: String(repeating: "0", count: 64))
        #expect(throws: LetheStore.LetheError.self) { _ = try Inventory(objects: [huge, huge]) }
    }

    @Test func anyChangeToAnObjectChangesTheDigest() throws {
        let base = [InventoryItem(key: "k", size: 1, sha256: "00")]
        let digest = try Inventory(objects: base).digest
        #expect(try Inventory(objects: [InventoryItem(key: "k", size: 2, sha256: "00")]).digest != digest)
        #expect(try Inventory(objects: [InventoryItem(key: "k", size: 1, sha256: "01")]).digest != digest)
        #expect(try Inventory(objects: base + [InventoryItem(key: "l", size: 0, sha256: "00")]).digest != digest)
    }
}

@Suite struct ApprovalPolicyTests {
    func approval(_ name: String, _ role: Authorizer.Role) -> Approval {
        Approval(authorizer: name, role: role, keyFingerprint: "SHA256:\(name)", signature: "", time: "")
    }

    @Test func defaultNeedsTwoDistinctAuthorizersWithOneDPO() {
        let policy = ApprovalPolicy.standard
        #expect(!policy.isSatisfied(by: []))
        #expect(!policy.isSatisfied(by: [approval("dana", .dpo)]))
        #expect(!policy.isSatisfied(by: [approval("carl", .officer), approval("olga", .officer)]))
        #expect(!policy.isSatisfied(by: [approval("dana", .dpo), approval("dana", .dpo)]))
        #expect(policy.isSatisfied(by: [approval("dana", .dpo), approval("carl", .officer)]))
        #expect(policy.isSatisfied(by: [approval("dana", .dpo), approval("dora", .dpo)]))
    }

    @Test func configuredPolicyOfThreeWithTwoDPOs() {
        let policy = ApprovalPolicy(required: 3, minimumDPOs: 2)
        #expect(!policy.isSatisfied(by: [approval("a", .dpo), approval("b", .officer), approval("c", .officer)]))
        #expect(policy.isSatisfied(by: [approval("a", .dpo), approval("b", .dpo), approval("c", .officer)]))
    }
}
