import LetheCrypto
import LetheStore
import Testing
@testable import LetheRepository

/// Every stand-alone ciphertext is bound to its tenant, kind and name, and every byte of it is
/// authenticated.
@Suite struct SealedObjectTests {
    let fixture = try! RepositoryFixture()
    let location = try! ObjectKey("tenants/acme/snapshots/x")

    @Test func sealThenOpenReturnsThePlaintext() throws {
        let keys = try fixture.keys("acme")
        for plaintext in [[], Array("hello".utf8), testBytes(100_000, seed: 1)] {
            let sealed = try SealedObject.seal(plaintext, kind: .snapshot, name: "n1", keys: keys)
            #expect(sealed.count == SealedObject.headerCount + plaintext.count + 16)
            #expect(try SealedObject.open(sealed, kind: .snapshot, name: "n1", keys: keys, key: location) == plaintext)
        }
    }

    @Test func theHeaderIsTheDocumentedOne() throws {
        let sealed = try SealedObject.seal([1, 2, 3], kind: .index, name: "i", keys: try fixture.keys("acme"))
        #expect(Array(sealed[0..<6]) == Array("LTHO".utf8) + [1, ObjectKind.index.rawValue])
    }

    @Test func sealingTwiceGivesDifferentCiphertexts() throws {
        let keys = try fixture.keys("acme")
        let a = try SealedObject.seal(Array("same".utf8), kind: .snapshot, name: "n", keys: keys)
        let b = try SealedObject.seal(Array("same".utf8), kind: .snapshot, name: "n", keys: keys)
        #expect(a != b, "fresh salt and nonce each time")
        #expect(a[6..<38] != b[6..<38])
    }

    @Test func anotherTenantsKeysDoNotOpenIt() throws {
        let sealed = try SealedObject.seal(Array("hello".utf8), kind: .snapshot, name: "n1", keys: try fixture.keys("acme"))
        let other = try fixture.keys("globex")
        let sameKeyOtherLabel = try TenantKeys(try fixture.key("acme"), labelledAs: try TenantID("globex"))
        for keys in [other, sameKeyOtherLabel] {
            let error = #expect(throws: IntegrityViolation.self) {
                _ = try SealedObject.open(sealed, kind: .snapshot, name: "n1", keys: keys, key: location)
            }
            #expect(error?.object == location)
        }
    }

    @Test func openingAsAnotherKindFails() throws {
        let keys = try fixture.keys("acme")
        let sealed = try SealedObject.seal(Array("hello".utf8), kind: .snapshot, name: "n1", keys: keys)
        for kind in ObjectKind.allCases where kind != .snapshot {
            let error = #expect(throws: IntegrityViolation.self) {
                _ = try SealedObject.open(sealed, kind: kind, name: "n1", keys: keys, key: location)
            }
            #expect(error?.object == location)
        }
        // Relabelling the kind byte in the header too does not help: the header is authenticated.
        var relabelled = sealed
        relabelled[5] = ObjectKind.index.rawValue
        #expect(throws: IntegrityViolation.self) { _ = try SealedObject.open(relabelled, kind: .index, name: "n1", keys: keys, key: location) }
    }

    @Test func openingUnderAnotherNameFails() throws {
        let keys = try fixture.keys("acme")
        let sealed = try SealedObject.seal(Array("hello".utf8), kind: .snapshot, name: "n1", keys: keys)
        for name in ["n2", "n", "n1 ", "N1", ""] {
            let error = #expect(throws: IntegrityViolation.self) {
                _ = try SealedObject.open(sealed, kind: .snapshot, name: name, keys: keys, key: location)
            }
            #expect(error?.object == location)
        }
    }

    @Test func everyFlippedBitIsDetectedAndNamesTheObject() throws {
        let keys = try fixture.keys("acme")
        // 50 header bytes (magic, version, kind, salt, nonce), 12 of body, 16 of tag.
        let sealed = try SealedObject.seal(Array("some content".utf8), kind: .index, name: "i", keys: keys)
        #expect(sealed.count == 78)
        var accepted: [String] = []
        for position in sealed.indices {
            for bit in 0..<8 {
                var damaged = sealed
                damaged[position] ^= 1 << bit
                do {
                    _ = try SealedObject.open(damaged, kind: .index, name: "i", keys: keys, key: location)
                    accepted.append("byte \(position) bit \(bit)")
                } catch let violation as IntegrityViolation {
                    if violation.object != location { accepted.append("byte \(position): named \(violation.object)") }
                }
            }
        }
        #expect(accepted.isEmpty, "\(accepted.prefix(10))")
    }

    @Test func everyTruncationIsDetectedAndNamesTheObject() throws {
        let keys = try fixture.keys("acme")
        let sealed = try SealedObject.seal(Array("some content".utf8), kind: .index, name: "i", keys: keys)
        for length in 0..<sealed.count {
            let error = #expect(throws: IntegrityViolation.self, "length \(length)") {
                _ = try SealedObject.open(Array(sealed.prefix(length)), kind: .index, name: "i", keys: keys, key: location)
            }
            #expect(error?.object == location)
        }
        #expect(throws: IntegrityViolation.self) { _ = try SealedObject.open(sealed + [0], kind: .index, name: "i", keys: keys, key: location) }
    }

    @Test func sealedObjectOpensTellsWhetherAKeyOpensAnObject() throws {
        let sealed = try SealedObject.seal([1], kind: .tenantRecord, name: "acme", keys: try fixture.keys("acme"))
        let acme = try TenantID("acme")
        #expect(sealedObjectOpens(sealed, kind: .tenantRecord, name: "acme", tenant: acme, key: try fixture.key("acme")))
        #expect(!sealedObjectOpens(sealed, kind: .tenantRecord, name: "acme", tenant: acme, key: try fixture.key("globex")))
    }
}
