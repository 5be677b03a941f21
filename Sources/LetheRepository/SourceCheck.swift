import Glibc
import LetheStore

extension TenantSource {
    /// Why this source can never be backed up as it stands, or nil if it can be tried: a
    /// directory that is not one, a database file that is not SQLite, a command whose program
    /// cannot be found or run. Checked when the tenant is added and before every backup, with
    /// the same words, so a mistake shows at once instead of at the first night.
    public func problem() -> String? {
        switch kind {
        case .directory:
            var info = stat()
            guard stat(location, &info) == 0 else { return "\(location): \(String(cString: strerror(errno)))" }
            guard (info.st_mode & S_IFMT) == S_IFDIR else { return "\(location) is not a directory" }
            guard let stream = opendir(location) else { return "\(location) cannot be listed: \(String(cString: strerror(errno)))" }
            closedir(stream)
            return nil
        case .sqlite:
            guard let file = try? OwnedFile(path: location, flags: O_RDONLY) else {
                return "\(location): \(String(cString: strerror(errno)))"
            }
            var header = [UInt8](repeating: 0, count: 16)
            let count = (try? header.withUnsafeMutableBytes { try file.readFully(into: $0) }) ?? 0
            // Every SQLite 3 database file begins with these 16 bytes (sqlite.org/fileformat.html);
            // an empty file is an empty database to SQLite.
            guard count == 0 || (count == 16 && header == Array("SQLite format 3".utf8) + [0]) else {
                return "\(location) is not a SQLite database"
            }
            return nil
        case .command:
            guard let program = location.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) else {
                return "the command is empty"
            }
            // Words the shell itself understands (`cat x | …`, `exec`, `cd`) are left to the shell.
            if ["exec", "cd", "env", "(", "{"].contains(program) || program.contains("=") { return nil }
            if program.contains("/") {
                return access(program, X_OK) == 0 ? nil : "\(program) is not an executable program"
            }
            let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
            let found = path.split(separator: ":").contains { access("\($0)/\(program)", X_OK) == 0 }
            return found ? nil : "\(program) is not a program on PATH"
        }
    }
}
