import Foundation
import LetheStore

/// Writes a POSIX pax archive (IEEE Std 1003.1-2001 `pax` format: ustar headers, with an
/// extended header record wherever ustar cannot hold a value — names longer than 100 bytes or
/// not ASCII, sub-second modification times, sizes of 8 GiB or more). GNU tar, bsdtar and
/// Python's tarfile all read it.
final class TarWriter {
    private let file: OwnedFile
    private(set) var bytesWritten = 0
    private var paxSerial = 0

    init(file: OwnedFile) {
        self.file = file
    }

    enum EntryType: UInt8 {
        case file = 0x30       // '0'
        case hardLink = 0x31   // '1': another name of an earlier entry, `linkTarget`; no content
        case symlink = 0x32    // '2'
        case directory = 0x35  // '5'
        case extended = 0x78   // 'x'
    }

    struct Entry {
        var path: String
        var type: EntryType
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32
        var size: Int
        var modified: FileTime
        var linkTarget: String = ""
    }

    /// Writes the header (and extended header if needed) of `entry`; file content follows
    /// through `writeContent` and `finishContent`.
    func begin(_ entry: Entry) throws {
        var records: [(String, String)] = []
        let name = Array(entry.path.utf8)
        if name.count > 100 || !entry.path.allSatisfy(\.isASCII) { records.append(("path", entry.path)) }
        let link = Array(entry.linkTarget.utf8)
        if link.count > 100 || !entry.linkTarget.allSatisfy(\.isASCII) { records.append(("linkpath", entry.linkTarget)) }
        if entry.modified.nanoseconds != 0 || entry.modified.seconds < 0 {
            records.append(("mtime", TarWriter.decimalTime(entry.modified)))
        }
        if entry.size >= 0o77777777777 { records.append(("size", String(entry.size))) }
        if !records.isEmpty {
            let body = records.map(TarWriter.record).joined()
            paxSerial += 1
            try writeHeader(Entry(
                path: "PaxHeaders/\(paxSerial)", type: .extended, mode: 0o644, uid: 0, gid: 0,
                size: body.utf8.count, modified: FileTime(seconds: max(entry.modified.seconds, 0), nanoseconds: 0)))
            try write(Array(body.utf8))
            try pad()
        }
        try writeHeader(entry)
    }

    func writeContent(_ bytes: [UInt8]) throws {
        try write(bytes)
    }

    /// Pads the content to a whole block.
    func finishContent() throws {
        try pad()
    }

    /// The end-of-archive marker: two zero blocks.
    func finish() throws {
        try write([UInt8](repeating: 0, count: 1024))
    }

    private func writeHeader(_ entry: Entry) throws {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: some Collection<UInt8>, at offset: Int, width: Int) {
            for (index, byte) in text.prefix(width).enumerated() { header[offset + index] = byte }
        }
        func octal(_ value: Int, at offset: Int, width: Int) {
            let digits = String(max(0, value), radix: 8)
            let padded = String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
            put(Array(padded.utf8).suffix(width - 1), at: offset, width: width - 1)
        }
        put(TarWriter.ustarName(entry.path), at: 0, width: 100)
        octal(Int(entry.mode & 0o7777), at: 100, width: 8)
        octal(min(Int(entry.uid), 0o7777777), at: 108, width: 8)
        octal(min(Int(entry.gid), 0o7777777), at: 116, width: 8)
        octal(entry.type == .file || entry.type == .extended ? min(entry.size, 0o77777777777) : 0, at: 124, width: 12)
        octal(Int(max(entry.modified.seconds, 0)), at: 136, width: 12)
        put(Array(repeating: UInt8(ascii: " "), count: 8), at: 148, width: 8)
        header[156] = entry.type.rawValue
        put(TarWriter.ustarName(entry.linkTarget), at: 157, width: 100)
        put(Array("ustar".utf8) + [0], at: 257, width: 6)
        put(Array("00".utf8), at: 263, width: 2)
        let checksum = header.reduce(0) { $0 + Int($1) }
        let digits = String(checksum, radix: 8)
        put(Array((String(repeating: "0", count: max(0, 6 - digits.count)) + digits).utf8) + [0, UInt8(ascii: " ")], at: 148, width: 8)
        try write(header)
    }

    /// What goes in a 100-byte ustar field: the value if it fits in ASCII, else an ASCII
    /// stand-in (the pax record carries the real value).
    private static func ustarName(_ value: String) -> [UInt8] {
        let bytes = Array(value.utf8)
        if bytes.count <= 100 && value.allSatisfy(\.isASCII) { return bytes }
        return Array(String(value.unicodeScalars.map { $0.isASCII ? Character($0) : "_" }).utf8.suffix(100))
    }

    /// One pax record, "<length> <key>=<value>\n", whose length counts itself.
    private static func record(_ key: String, _ value: String) -> String {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while String(length).count + body.utf8.count != length { length += 1 }
        return "\(length)\(body)"
    }

    private static func decimalTime(_ time: FileTime) -> String {
        let nanos = String(time.nanoseconds)
        return "\(time.seconds).\(String(repeating: "0", count: 9 - nanos.count))\(nanos)"
    }

    private func write(_ bytes: [UInt8]) throws {
        try file.write(bytes)
        bytesWritten += bytes.count
    }

    private func pad() throws {
        let remainder = bytesWritten % 512
        if remainder != 0 { try write([UInt8](repeating: 0, count: 512 - remainder)) }
    }
}
