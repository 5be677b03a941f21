/// Content-defined chunking, FastCDC-style (Xia et al., USENIX ATC 2016): a gear rolling hash
/// with normalized chunking, so that an insertion moves only nearby chunk boundaries and
/// unchanged regions deduplicate.
///
/// Sizes are the brief's: no cut before 512 KiB, a stricter mask until the 1 MiB target, a
/// looser one after it, and a forced cut at 8 MiB. The gear table comes from the tenant's key
/// (`TenantKeys`), so the same file cuts differently for two tenants and boundaries leak
/// nothing across them.
public struct Chunker: Sendable {
    public static let minimumSize = 512 << 10
    public static let targetSize = 1 << 20
    public static let maximumSize = 8 << 20

    /// 22 high bits before the target (harder to match), 18 after (easier): normalization
    /// level 2 of the FastCDC paper around an average of 2^20.
    static let strictMask: UInt64 = ~(UInt64.max >> 22)
    static let looseMask: UInt64 = ~(UInt64.max >> 18)

    let gear: [UInt64]

    public init(gear: [UInt64]) {
        precondition(gear.count == 256)
        self.gear = gear
    }

    /// The length of the chunk that starts `data`. `data` holds at least `maximumSize` bytes
    /// unless it is the end of the input.
    public func cut(_ data: UnsafeRawBufferPointer) -> Int {
        let count = data.count
        if count <= Chunker.minimumSize { return count }
        let normal = min(Chunker.targetSize, count)
        let limit = min(Chunker.maximumSize, count)
        let bytes = data.bindMemory(to: UInt8.self)
        return gear.withUnsafeBufferPointer { table in
            var hash: UInt64 = 0
            var index = Chunker.minimumSize
            while index < normal {
                hash = (hash &<< 1) &+ table[Int(bytes[index])]
                index &+= 1
                if hash & Chunker.strictMask == 0 { return index }
            }
            while index < limit {
                hash = (hash &<< 1) &+ table[Int(bytes[index])]
                index &+= 1
                if hash & Chunker.looseMask == 0 { return index }
            }
            return limit
        }
    }
}
