import Foundation
import Testing

/// Blob compression through the real binary: text shrinks, random bytes are stored as they
/// are, a repository written without compression stays readable once it is on, and the
/// setting is validated.
@Suite struct CompressionTests {
    /// Text the way personal data looks (CSV rows, JSON, prose), and an incompressible upload.
    func makeData(at directory: String, home: E2EHome) throws {
        var random = SeededBytes(seed: 11)
        var csv = "id,name,email,city,consent\n"
        for i in 0..<40_000 {
            csv += "\(i),Name \(random.next() % 5000),user\(random.next() % 90_000)@example.eu,"
                + ["Berlin", "Paris", "Warszawa", "Dublin"][Int(random.next() % 4)] + ",\(random.next() % 2 == 0)\n"
        }
        try home.write("\(directory)/exports/contacts.csv", csv)
        var json = "["
        for i in 0..<5_000 { json += "{\"ticket\": \(i), \"status\": \"open\", \"priority\": \(random.next() % 5)},\n" }
        try home.write("\(directory)/support/tickets.json", json + "{}]\n")
        try home.write("\(directory)/uploads/scan.pdf", random.bytes(1_500_000))
        try home.write("\(directory)/notes.md", "short\n")
    }

    func storeBytes(_ home: E2EHome, tenant: String) -> Int {
        home.objects("tenants/\(tenant)/data").reduce(0) { total, object in
            total + ((try? FileManager.default.attributesOfItem(atPath: "\(home.store)/\(object)")[.size] as? Int) ?? 0)
        }
    }

    @Test func textIsStoredCompressedAndAnUncompressedRepositoryStaysReadable() throws {
        let home = try E2EHome()
        for tenant in ["plain", "packed"] {
            try makeData(at: "\(home.data)/\(tenant)", home: home)
            #expect(home.lethe("tenant", "add", tenant, "--source", "dir:\(home.data)/\(tenant)").status == 0)
        }
        // "plain" is written as before compression existed.
        #expect(home.lethe("config", "set", "compressionMinimumSavingPercent", "100").status == 0)
        #expect(home.lethe("backup", "plain").status == 0)
        #expect(home.lethe("config", "set", "compressionMinimumSavingPercent", "5").status == 0)
        #expect(home.lethe("backup", "packed").status == 0)

        let plain = storeBytes(home, tenant: "plain")
        let packed = storeBytes(home, tenant: "packed")
        let random = 1_500_000
        #expect(plain > random * 2, "the text is stored uncompressed: \(plain) bytes")
        // The upload stays as it is; the text shrinks to well under half.
        #expect(packed - random < (plain - random) / 2, "compressed \(packed) bytes against \(plain)")

        // The old repository gains compressed blobs on its next backup, and both read back.
        try home.write("\(home.data)/plain/exports/more.csv", String(repeating: "42,Name,more@example.eu,Paris,true\n", count: 2_000))
        #expect(home.lethe("backup", "plain").status == 0)
        for tenant in ["plain", "packed"] {
            let verify = home.lethe("verify", tenant, "--read-data")
            #expect(verify.status == 0, "\(verify.output)")
            let target = "\(home.root)/restored-\(tenant)"
            let restore = home.lethe("restore", tenant, "latest", "--target", target)
            #expect(restore.status == 0, "\(restore.output)")
            #expect(SampleTree.differences("\(home.data)/\(tenant)", target) == [])
        }
    }

    @Test func theSavingMustBeAPercentage() throws {
        let home = try E2EHome()
        for value in ["101", "-1"] {
            let run = home.lethe("config", "set", "--", "compressionMinimumSavingPercent", value)
            #expect(run.status == 2, "\(run.output)")
            #expect(run.stderr.hasPrefix("lethe: ") && run.stderr.contains("compressionMinimumSavingPercent must be 0 to 100"), "\(run.stderr)")
        }
        #expect(home.lethe("config", "set", "compressionMinimumSavingPercent", "none").status == 0)
    }
}
