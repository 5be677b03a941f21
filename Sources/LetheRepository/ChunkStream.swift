import LetheStore

/// Reads a file or a pipe and hands out its content-defined chunks one at a time, through one
/// reusable buffer of a maximum-size chunk plus 4 MiB of read-ahead, whatever the input size.
///
/// The buffer is owned here and freed in `deinit`; the chunk passed to `next`'s closure is
/// valid only during the call.
public final class ChunkStream {
    private let chunker: Chunker
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var atEnd = false
    private var file: OwnedFile?

    public init(chunker: Chunker) {
        self.chunker = chunker
        buffer = .allocate(byteCount: Chunker.maximumSize + (4 << 20), alignment: 64)
    }

    deinit {
        buffer.deallocate()
    }

    /// Starts reading `file` from its current offset.
    public func reset(_ file: OwnedFile) {
        self.file = file
        start = 0
        end = 0
        atEnd = false
        bytesRead = 0
    }

    /// Total bytes read from the current input so far.
    public private(set) var bytesRead = 0

    /// Calls `body` with the next chunk; returns false at the end of the input.
    public func next(_ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        if !atEnd && end - start < Chunker.maximumSize {
            try refill()
        }
        guard end > start else { return false }
        let available = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
        let length = chunker.cut(available)
        try body(UnsafeRawBufferPointer(rebasing: available[0..<length]))
        start += length
        return true
    }

    private func refill() throws {
        guard let file else { atEnd = true; return }
        if start > 0 {
            let remaining = end - start
            if remaining > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: remaining) }
            start = 0
            end = remaining
        }
        while end < buffer.count {
            let count = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
            if count == 0 {
                atEnd = true
                break
            }
            end += count
            bytesRead += count
        }
    }
}
