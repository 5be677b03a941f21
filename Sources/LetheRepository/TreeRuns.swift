import Foundation
import LetheStore

/// The sealed bytes of trees, read a run of neighbouring trees of a pack at a time.
///
/// Every walk of a snapshot (the parent of a backup, a restore, a check, an erasure) reads its
/// trees one by one, in an order only the trees themselves reveal. On a bucket each of those
/// reads was an HTTP exchange, and SeaweedFS serves a ranged GET by reading the chunk around
/// it: an unchanged re-run of one small tenant cost 255 GETs and a second of the server's CPU.
/// A backup writes a snapshot's trees side by side into tree packs (`BlobWriter`), so when one
/// tree is asked for, this reads the run of tree blobs around it: its pack's trees on either
/// side (trees are written children first, walks go parent first), each within `maximumGap`
/// bytes of the next, up to `maximumRun` bytes in all. The `retainedRuns` runs used last stay
/// in memory while they hold no more than `retainedBytes`. A tree with no neighbour close
/// enough (packs written before trees had packs of their own put file content between them)
/// is read alone and not kept, since a walk reads each tree once; so is a tree longer than
/// `maximumRun`.
///
/// Nothing here is trusted: each blob is opened and authenticated by the caller exactly as a
/// single read would be. A pack's id is random and its bytes never change, so a run kept
/// across an index change still holds the bytes its (pack, range) names. A run that is missing
/// or cut short is not an error here (nil): the caller then reads the one blob alone, which
/// names the fault. Any other failure (the store unreachable) is thrown as it is.
final class TreeRuns: @unchecked Sendable {
    static let maximumRun = 8 << 20
    static let maximumGap = 256 << 10
    static let retainedRuns = 4
    static let retainedBytes = 16 << 20

    private struct Run {
        let pack: PackID
        let range: Range<Int>
        let bytes: [UInt8]
    }

    private let lock = NSLock()
    /// The ranges of every tree blob, by pack, in offset order; made from the index on first use.
    private var trees: [PackID: [Range<Int>]]?
    /// The runs in memory, the one used last at the end.
    private var runs: [Run] = []

    /// Forgets the layout of the trees (the index changed); the runs read stay valid.
    func indexChanged() {
        lock.withLock { trees = nil }
    }

    /// The sealed bytes of the tree at `location`, from a run read through `read`; nil when
    /// the tree is best read alone, or its run is missing or shorter than the index says.
    func sealed(at location: BlobLocation, index: BlobIndex, read: (PackID, Range<Int>) throws -> [UInt8]) throws -> [UInt8]? {
        let wanted = location.offset..<(location.offset + location.sealedLength)
        if let bytes = cached(location.pack, wanted) { return bytes }
        guard wanted.count <= Self.maximumRun else { return nil }
        let range = run(around: wanted, in: location.pack, index: index)
        guard range != wanted else { return nil }
        let bytes: [UInt8]
        do {
            bytes = try read(location.pack, range)
        } catch is ObjectNotFound {
            return nil
        } catch is ObjectTooShort {
            return nil
        }
        guard bytes.count == range.count else { return nil }
        lock.withLock {
            runs.append(Run(pack: location.pack, range: range, bytes: bytes))
            while runs.count > Self.retainedRuns || (runs.count > 1 && runs.reduce(0, { $0 + $1.bytes.count }) > Self.retainedBytes) {
                runs.removeFirst()
            }
        }
        return slice(bytes, of: range, wanted)
    }

    private func cached(_ pack: PackID, _ wanted: Range<Int>) -> [UInt8]? {
        lock.withLock {
            guard let i = runs.lastIndex(where: { $0.pack == pack && $0.range.contains(wanted.lowerBound) && wanted.upperBound <= $0.range.upperBound })
            else { return nil }
            let run = runs.remove(at: i)
            runs.append(run)
            return slice(run.bytes, of: run.range, wanted)
        }
    }

    private func slice(_ bytes: [UInt8], of range: Range<Int>, _ wanted: Range<Int>) -> [UInt8] {
        Array(bytes[(wanted.lowerBound - range.lowerBound)..<(wanted.upperBound - range.lowerBound)])
    }

    /// The range to read for `wanted`: it and the trees of its pack on either side, while each
    /// next one is close enough and the whole stays within `maximumRun`.
    private func run(around wanted: Range<Int>, in pack: PackID, index: BlobIndex) -> Range<Int> {
        let ranges = layout(index)[pack] ?? []
        // The first tree at or after `wanted`'s start; `wanted` itself when it is a tree of the index.
        var low = ranges.partitionPoint { $0.lowerBound >= wanted.lowerBound }
        guard low < ranges.count, ranges[low] == wanted else { return wanted }
        var high = low
        var span = wanted
        while true {
            var grew = false
            if low > 0, span.lowerBound - ranges[low - 1].upperBound <= Self.maximumGap,
               span.upperBound - ranges[low - 1].lowerBound <= Self.maximumRun, ranges[low - 1].upperBound <= span.lowerBound {
                low -= 1
                span = ranges[low].lowerBound..<span.upperBound
                grew = true
            }
            if high + 1 < ranges.count, ranges[high + 1].lowerBound - span.upperBound <= Self.maximumGap,
               ranges[high + 1].upperBound - span.lowerBound <= Self.maximumRun, ranges[high + 1].lowerBound >= span.upperBound {
                high += 1
                span = span.lowerBound..<ranges[high].upperBound
                grew = true
            }
            if !grew { return span }
        }
    }

    private func layout(_ index: BlobIndex) -> [PackID: [Range<Int>]] {
        lock.withLock {
            if let trees { return trees }
            var made: [PackID: [Range<Int>]] = [:]
            for location in index.locations.values where location.type == .tree {
                made[location.pack, default: []].append(location.offset..<(location.offset + location.sealedLength))
            }
            for pack in made.keys { made[pack]!.sort { $0.lowerBound < $1.lowerBound } }
            trees = made
            return made
        }
    }
}

fileprivate extension Array {
    /// The first index whose element satisfies `belongs`, for an array where every element
    /// that does comes after every element that does not.
    func partitionPoint(_ belongs: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
