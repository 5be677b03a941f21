import LetheStore

/// The LZ4 block format (lz4/doc/lz4_Block_format.md, the format of `LZ4_compress_default`
/// and `LZ4_decompress_safe`, and of Python's `lz4.block` with `store_size=False`): a
/// sequence of
///
///     token (literal length: high 4 bits, match length − 4: low 4 bits)
///     | literal length − 15 in bytes of 255 and a last byte < 255, when the high bits are 15
///     | literals | offset (2 bytes little-endian, 1 … 65535)
///     | match length − 19 the same way, when the low bits are 15
///
/// and a last sequence of literals alone, which the block ends with. A match copies `length`
/// bytes from `offset` bytes back in the output, and may overlap what it writes.
///
/// The compressor is LZ4's fast greedy one (a hash table of 5-byte sequences, and a step that
/// grows while nothing matches, so incompressible input is skimmed rather than searched). It
/// keeps the end-of-block rules, so the reference decodes what it writes: the last 5 bytes are
/// literals and the last match starts at least 12 bytes before the end.
///
/// The decoder trusts nothing: every length and offset is checked against the input and the
/// output before it is used, the output is exactly the declared length, and a malformed block
/// is an `LZ4Error`, never a trap. It does not enforce the end-of-block rules, which bind
/// compressors; nothing it accepts writes outside its output.
public enum LZ4 {
    static let minimumMatch = 4
    /// The last bytes of a block that are always literals.
    static let lastLiterals = 5
    /// A match starts at least this many bytes before the end of the block.
    static let matchStartLimit = 12
    static let maximumOffset = 65535
    /// The hash table has at most 2^16 entries (256 KiB), and no more than the input has
    /// positions: a small blob (most files are) does not pay for clearing a large table.
    static let maximumHashLog = 16
    static let minimumHashLog = 8
    /// After 2^skipTrigger failed probes the step grows by one (LZ4's acceleration 1).
    static let skipTrigger = 6

    /// The longest block `compress` can write for `count` bytes (all of them literals).
    public static func maximumCompressedLength(_ count: Int) -> Int {
        count + count / 255 + 16
    }

    /// The most a block of `count` bytes can decode to: each byte of an extended length adds
    /// at most 255 bytes, and a block's first few bytes at most 24.
    public static func maximumDecompressedLength(_ count: Int) -> Int {
        count * 255 + 24
    }

    /// `input` as one block, or nil when the block would be longer than `limit` bytes (by
    /// default the longest any input can need, so nil only for inputs of 4 GiB or more).
    public static func compress(_ input: [UInt8], limit: Int? = nil) -> [UInt8]? {
        input.withUnsafeBytes { compress($0, limit: limit ?? maximumCompressedLength($0.count)) }
    }

    /// `input` as one block, or nil when the block would be longer than `limit` bytes.
    public static func compress(_ input: UnsafeRawBufferPointer, limit: Int) -> [UInt8]? {
        guard limit > 0 else { return nil }
        var length: Int?
        let output = [UInt8](unsafeUninitializedCapacity: limit) { buffer, initialized in
            length = compress(input, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = length ?? 0
        }
        return length == nil ? nil : output
    }

    /// Compresses `input` into the start of `output` and returns the block's length, or nil
    /// once it is certain that the block will not fit in `output`: a caller that wants a
    /// block only if it is small passes an output of the size it would accept.
    public static func compress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        let count = input.count
        let limit = output.count
        // Positions are kept as 32-bit numbers in the hash table.
        guard count < Int(UInt32.max), let out = output.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        var op = 0
        var anchor = 0
        // Shorter inputs are all literals, as in the reference.
        if count > matchStartLimit, let source = input.baseAddress {
            let hashLog = min(max(Int.bitWidth - (count - 1).leadingZeroBitCount, minimumHashLog), maximumHashLog)
            let hashShift = UInt64(64 - hashLog)
            let table = UnsafeMutablePointer<UInt32>.allocate(capacity: 1 << hashLog)
            table.initialize(repeating: 0, count: 1 << hashLog)
            defer { table.deallocate() }
            let lastMatchStart = count - matchStartLimit
            let matchEnd = count - lastLiterals

            // Five bytes at `position` (read as eight: `position` is at most count − 11).
            func hash(_ position: Int) -> Int {
                let bytes = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: position, as: UInt64.self))
                return Int(truncatingIfNeeded: ((bytes << 24) &* 889_523_592_379) >> hashShift)
            }
            func word(_ position: Int) -> UInt32 {
                source.loadUnaligned(fromByteOffset: position, as: UInt32.self)
            }
            func byte(_ position: Int) -> UInt8 {
                source.load(fromByteOffset: position, as: UInt8.self)
            }
            // How many bytes at `a` equal those at `b` (`b` < `a`), stopping at `matchEnd`.
            func commonLength(_ a: Int, _ b: Int) -> Int {
                var p = a
                var q = b
                while p + 8 <= matchEnd {
                    let difference = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: p, as: UInt64.self)
                        ^ source.loadUnaligned(fromByteOffset: q, as: UInt64.self))
                    if difference != 0 { return p - a + difference.trailingZeroBitCount >> 3 }
                    p &+= 8
                    q &+= 8
                }
                while p < matchEnd && byte(p) == byte(q) {
                    p &+= 1
                    q &+= 1
                }
                return p - a
            }

            var ip = 1
            table[hash(0)] = 0
            var nextHash = hash(ip)
            search: while true {
                // Find a match: probe forward, faster the longer nothing matches.
                var match = 0
                var next = ip
                var step = 1
                var probes = 1 << skipTrigger
                repeat {
                    let slot = nextHash
                    ip = next
                    next &+= step
                    step = probes >> skipTrigger
                    probes &+= 1
                    if next > lastMatchStart { break search }
                    match = Int(table[slot])
                    nextHash = hash(next)
                    table[slot] = UInt32(truncatingIfNeeded: ip)
                } while match + maximumOffset < ip || word(match) != word(ip)
                // Extend it backwards over the literals.
                while ip > anchor && match > 0 && byte(ip - 1) == byte(match - 1) {
                    ip -= 1
                    match -= 1
                }
                // Token and literals; room is kept for the offset and the block's last sequence.
                let literals = ip - anchor
                guard op + 1 + literals / 255 + 1 + literals + 2 + 1 + lastLiterals <= limit else { return nil }
                var token = op
                op = writeLength(literals, into: out, at: op + 1, token: token, shift: 4)
                (out + op).update(from: source.assumingMemoryBound(to: UInt8.self) + anchor, count: literals)
                op += literals

                while true {
                    let offset = ip - match
                    out[op] = UInt8(truncatingIfNeeded: offset)
                    out[op + 1] = UInt8(truncatingIfNeeded: offset >> 8)
                    op += 2
                    let length = minimumMatch + commonLength(ip + minimumMatch, match + minimumMatch)
                    ip += length
                    guard op + (length - minimumMatch) / 255 + 1 + 1 + lastLiterals <= limit else { return nil }
                    op = writeLength(length - minimumMatch, into: out, at: op, token: token, shift: 0)
                    anchor = ip
                    if ip > lastMatchStart { break search }
                    table[hash(ip - 2)] = UInt32(truncatingIfNeeded: ip - 2)
                    // A match right here needs no literals.
                    let slot = hash(ip)
                    match = Int(table[slot])
                    table[slot] = UInt32(truncatingIfNeeded: ip)
                    guard match + maximumOffset >= ip && word(match) == word(ip) else { break }
                    guard op + 1 + 2 + 1 + lastLiterals <= limit else { return nil }
                    token = op
                    out[token] = 0
                    op += 1
                }
                ip += 1
                nextHash = hash(ip)
            }
        }
        // The last sequence: literals alone.
        let literals = count - anchor
        guard op + 1 + (literals >= 15 ? (literals - 15) / 255 + 1 : 0) + literals <= limit else { return nil }
        op = writeLength(literals, into: out, at: op + 1, token: op, shift: 4)
        if literals > 0 {
            (out + op).update(from: input.baseAddress!.assumingMemoryBound(to: UInt8.self) + anchor, count: literals)
        }
        return op + literals
    }

    /// Puts `length` in the token's nibble at `shift` (the other nibble is kept when it is the
    /// match's turn, and cleared for the literals) and its extension bytes at `position`;
    /// returns the position after them.
    private static func writeLength(_ length: Int, into out: UnsafeMutablePointer<UInt8>, at position: Int, token: Int, shift: UInt8) -> Int {
        let nibble = UInt8(min(length, 15)) << shift
        out[token] = shift == 4 ? nibble : out[token] | nibble
        var position = position
        guard length >= 15 else { return position }
        var rest = length - 15
        while rest >= 255 {
            out[position] = 255
            position += 1
            rest -= 255
        }
        out[position] = UInt8(rest)
        return position + 1
    }

    /// Decodes one block of exactly `uncompressedLength` bytes.
    public static func decompress(_ bytes: [UInt8], uncompressedLength: Int) throws(LZ4Error) -> [UInt8] {
        var result: Result<[UInt8], LZ4Error> = .failure(.truncated)
        bytes.withUnsafeBytes { raw in
            do throws(LZ4Error) {
                result = .success(try decompress(raw, uncompressedLength: uncompressedLength))
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    /// Decodes one block of exactly `uncompressedLength` bytes. The length is checked first
    /// against what `input` could possibly hold, so a short malformed block never allocates a
    /// large output.
    public static func decompress(_ input: UnsafeRawBufferPointer, uncompressedLength: Int) throws(LZ4Error) -> [UInt8] {
        guard uncompressedLength >= 0, uncompressedLength <= maximumDecompressedLength(input.count) else {
            throw .impossibleLength
        }
        var failure: LZ4Error?
        let output = [UInt8](unsafeUninitializedCapacity: uncompressedLength) { buffer, initialized in
            failure = decode(input, into: buffer)
            initialized = failure == nil ? uncompressedLength : 0
        }
        if let failure { throw failure }
        return output
    }

    /// Copies `count` bytes (rounded up to a multiple of 8, which both sides must have room
    /// for) from `from` to `to`, 8 at a time, front to back.
    @inline(__always)
    private static func copyWords(_ to: UnsafeMutablePointer<UInt8>, _ from: UnsafeRawPointer, count: Int) {
        let destination = UnsafeMutableRawPointer(to)
        var i = 0
        repeat {
            destination.storeBytes(of: from.loadUnaligned(fromByteOffset: i, as: UInt64.self), toByteOffset: i, as: UInt64.self)
            i &+= 8
        } while i < count
    }

    /// Decodes `input` into all of `output`; nil when it filled `output` exactly.
    private static func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>) -> LZ4Error? {
        guard let source = input.baseAddress, input.count > 0 else { return .truncated }
        let inputEnd = input.count
        let outputEnd = output.count
        var ip = 0
        var op = 0
        func byte(_ position: Int) -> Int {
            Int(source.load(fromByteOffset: position, as: UInt8.self))
        }
        // Adds the extension bytes of a length whose nibble was 15; nil if the input ends first.
        func extend(_ length: inout Int) -> Bool {
            while ip < inputEnd {
                let next = byte(ip)
                ip += 1
                length += next
                if next != 255 { return true }
            }
            return false
        }

        while true {
            let token = byte(ip)
            ip += 1
            var literals = token >> 4
            if literals == 15 && !extend(&literals) { return .truncated }
            guard literals <= inputEnd - ip else { return .truncated }
            guard literals <= outputEnd - op else { return .outputTooLong }
            if literals > 0 {
                let to = output.baseAddress! + op
                let from = source + ip
                // Short runs are copied 8 bytes at a time when both buffers have room for the
                // rounding; the bytes written past the run are overwritten by what follows.
                if literals <= 32, inputEnd - ip >= 40, outputEnd - op >= 40 {
                    copyWords(to, from, count: literals)
                } else {
                    to.update(from: from.assumingMemoryBound(to: UInt8.self), count: literals)
                }
                ip += literals
                op += literals
            }
            if ip == inputEnd { break }

            guard inputEnd - ip >= 2 else { return .truncated }
            let offset = byte(ip) | byte(ip + 1) << 8
            ip += 2
            guard offset != 0, offset <= op else { return .invalidOffset }
            var length = token & 15
            if length == 15 && !extend(&length) { return .truncated }
            length += minimumMatch
            guard length <= outputEnd - op else { return .outputTooLong }
            let out = output.baseAddress! + op
            let from = out - offset
            if offset >= 8, outputEnd - op >= length + 8 {
                // Eight bytes at a time: each word read ends at or before the one written, so
                // it holds bytes already decoded, as the format requires.
                copyWords(out, UnsafeRawPointer(from), count: length)
            } else if offset >= length {
                out.update(from: from, count: length)
            } else {
                // The match overlaps itself: the bytes repeat every `offset`. Each piece copies
                // from `from` what is already written, so the pieces double and never overlap.
                var copied = 0
                while copied < length {
                    let piece = min(offset + copied, length - copied)
                    (out + copied).update(from: from, count: piece)
                    copied += piece
                }
            }
            op += length
            // A block ends with literals, never with a match.
            guard ip < inputEnd else { return .truncated }
        }
        return op == outputEnd ? nil : .outputTooShort
    }
}

/// Why an LZ4 block does not decode.
public enum LZ4Error: KindedError, Equatable, Sendable, CustomStringConvertible {
    /// The block ends inside a sequence, or with a match.
    case truncated
    /// A match refers to offset 0 or to before the start of the output.
    case invalidOffset
    /// The block decodes to more than the declared length.
    case outputTooLong
    /// The block decodes to fewer bytes than the declared length.
    case outputTooShort
    /// The declared length is negative, or more than a block of this size can hold.
    case impossibleLength

    /// Only an authenticated blob is ever decoded, so a block that does not decode is damage
    /// (or a writer's bug), never the operator's mistake.
    public var kind: ErrorKind { .integrity }

    public var description: String {
        switch self {
        case .truncated: return "the LZ4 block is truncated"
        case .invalidOffset: return "an LZ4 match refers to outside the output"
        case .outputTooLong: return "the LZ4 block decodes to more bytes than declared"
        case .outputTooShort: return "the LZ4 block decodes to fewer bytes than declared"
        case .impossibleLength: return "the declared length is impossible for an LZ4 block of this size"
        }
    }
}
