import LetheStore

/// When a blob is stored compressed (an LZ4 block, blob flag bit 0; docs/format.md), and how
/// a compressed blob is read back.
///
/// A blob is compressed only when that saves at least `minimumSavingPercent` of its bytes:
/// below that, the CPU spent decompressing on every restore buys too little. Data that does
/// not shrink (uploads, media, archives, what is already compressed or encrypted) costs
/// almost nothing: a blob longer than 64 KiB is first tried on its first 64 KiB, and one that
/// does not save enough there is stored as it is; the compressor also stops as soon as its
/// output passes the size that would be accepted.
public struct BlobCompression: Equatable, Sendable {
    /// 0 to 100; 100 turns compression off (nothing can save all of its bytes).
    public let minimumSavingPercent: Int

    /// The default: compress what saves at least 5 %.
    public static let standard = BlobCompression(minimumSavingPercent: 5)
    public static let off = BlobCompression(minimumSavingPercent: 100)

    /// The flag a compressed blob carries in its pack header entry.
    static let flag: UInt8 = 1
    /// The longest blob that is compressed, and so the most a compressed blob may decode to:
    /// a data blob is at most one chunk; a longer tree blob is stored as it is.
    public static let maximumUncompressedLength = Chunker.maximumSize
    /// How much of a long blob is tried first.
    static let probeLength = 64 << 10

    public init(minimumSavingPercent: Int) {
        self.minimumSavingPercent = min(max(minimumSavingPercent, 0), 100)
    }

    /// The longest compressed block worth storing for `count` bytes (0 when none is).
    func limit(for count: Int) -> Int {
        // Always strictly shorter than the blob: an equal length saves nothing.
        min(count * (100 - minimumSavingPercent) / 100, count - 1)
    }

    /// `plaintext` as an LZ4 block, or nil when it is to be stored as it is.
    public func compress(_ plaintext: UnsafeRawBufferPointer) -> [UInt8]? {
        let count = plaintext.count
        guard minimumSavingPercent < 100, count > 0, count <= BlobCompression.maximumUncompressedLength else { return nil }
        if count > BlobCompression.probeLength {
            let probe = UnsafeRawBufferPointer(rebasing: plaintext[..<BlobCompression.probeLength])
            guard LZ4.compress(probe, limit: limit(for: probe.count)) != nil else { return nil }
        }
        return LZ4.compress(plaintext, limit: limit(for: count))
    }

    /// The blob a compressed blob's block decodes to, of exactly `plainLength` bytes, which its
    /// (authenticated) pack header entry records and which never exceeds
    /// `maximumUncompressedLength`.
    static func decompress(_ block: [UInt8], plainLength: Int) throws(LZ4Error) -> [UInt8] {
        guard plainLength <= maximumUncompressedLength else { throw .impossibleLength }
        return try LZ4.decompress(block, uncompressedLength: plainLength)
    }
}
