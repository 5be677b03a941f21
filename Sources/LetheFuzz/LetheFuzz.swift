import Foundation
import LetheFuzzTargets
#if LETHE_LIBFUZZER
import CLibFuzzer
#endif

/// `LetheFuzz TARGET [libFuzzer options and corpus directories]`: the fuzz targets of
/// LetheFuzzTargets in one program. Built by Scripts/fuzz.sh with `-sanitize=fuzzer,address`
/// and `-DLETHE_LIBFUZZER`, it hands everything after the target's name to libFuzzer. Built
/// without (as `swift build` does), it feeds each file named, or each file in each directory
/// named, to the target once and says whether it was accepted. `LetheFuzz list` names the
/// targets.
@main
struct LetheFuzz {
    nonisolated(unsafe) static var selected: FuzzTarget?

    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2, arguments[1] != "list" else {
            for target in FuzzTargets.all { print("\(target.name)\t\(target.summary)") }
            exit(arguments.count >= 2 ? 0 : 2)
        }
        guard let target = FuzzTargets.named(arguments[1]) else {
            FileHandle.standardError.write(Data("unknown fuzz target \(arguments[1]) (see `LetheFuzz list`)\n".utf8))
            exit(2)
        }
        selected = target
        #if LETHE_LIBFUZZER
        var argv: [UnsafeMutablePointer<CChar>?] = ([arguments[0]] + arguments.dropFirst(2)).map { strdup($0) } + [nil]
        var argc = CInt(argv.count - 1)
        let status = argv.withUnsafeMutableBufferPointer { buffer -> CInt in
            var pointer = buffer.baseAddress
            return LLVMFuzzerRunDriver(&argc, &pointer) { data, size in
                let input = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
                _ = try? LetheFuzz.selected?.run(input)
                return 0
            }
        }
        exit(status)
        #else
        var failed = false
        for path in arguments.dropFirst(2) {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                print("\(path): no such file")
                failed = true
                continue
            }
            let files = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { "\(path)/\($0)" } : [path]
            for file in files {
                guard let bytes = FileManager.default.contents(atPath: file) else { continue }
                do {
                    try target.run(Array(bytes))
                    print("\(file): accepted")
                } catch {
                    print("\(file): rejected: \(error)")
                }
            }
        }
        exit(failed ? 1 : 0)
        #endif
    }
}
