import Foundation
import LetheCore
import LetheCrypto
import LetheRepository
import LetheStore

/// How the CLI writes numbers for people.
enum Format {
    static func bytes(_ count: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// What the erasure ledger did to a restore or an export: counts and file names only.
    static func erasure(_ outcome: LetheRepository.ErasureOutcome) -> String {
        var line = "Erasure ledger version \(outcome.ledgerVersion) (\(Plural.count(outcome.rulesInForce, "rule"))): "
        line += "\(Plural.count(outcome.entriesLeftOut, "entry", "entries")) left out"
        for file in outcome.files {
            line += "; \(file.path): rule\(file.rules.count == 1 ? "" : "s") \(file.rules.map(String.init).joined(separator: ", ")), "
                + Plural.count(file.changed, "row or record", "rows or records") + " removed or changed"
        }
        return line
    }

    static func seconds(_ value: Double) -> String {
        String(format: "%.2fs", value)
    }

    /// `rwxr-xr-x` for a permission mode.
    static func mode(_ mode: Int, kind: String) -> String {
        let prefix = kind == "directory" ? "d" : kind == "symlink" ? "l" : "-"
        let letters = Array("rwxrwxrwx")
        return prefix + String((0..<9).map { mode & (1 << (8 - $0)) != 0 ? letters[$0] : "-" })
    }

    /// Left-aligned columns.
    static func table(_ rows: [[String]]) -> [String] {
        guard let first = rows.first else { return [] }
        let widths = (0..<first.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ")
        }
    }
}

extension Invocation {
    /// The installation of `--home`, opened.
    func installation() throws -> Installation {
        try Installation(home: home)
    }

    /// One tenant id from the positionals at `index`.
    func tenant(at index: Int) throws -> TenantID {
        try TenantID(arguments.positionals[index])
    }
}

extension Invocation {
    /// An authorizer's Ed25519 private key from a PEM file, held in wiped memory.
    func privateKey(_ path: String) throws -> Ed25519.PrivateKey {
        var raw = try FileSystem.readFile(path, limit: 64 << 10)
        do {
            return try Ed25519.PrivateKey(pemRepresentation: SecureBytes(wiping: &raw))
        } catch let error as CryptoError {
            throw usageError("\(path): \(error)")
        }
    }

    /// A signature file: 64 raw bytes as `openssl pkeyutl -sign` writes them, or their base64.
    func signature(_ path: String) throws -> [UInt8] {
        let bytes = try FileSystem.readFile(path, limit: 4096)
        if bytes.count != Ed25519.signatureByteCount,
           let decoded = Data(base64Encoded: String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) {
            return Array(decoded)
        }
        return bytes
    }
}
