import Foundation
import LetheCore
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
