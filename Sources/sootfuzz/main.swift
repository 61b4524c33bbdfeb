// sootfuzz: mutation fuzzing of sootctl's decoders, one child process per mutant.
//
//   sootfuzz --seeds DIR_OR_FILE... --count N [--seed S] [--jobs J] [--memory-mb M]
//            [--timeout-s T] [--crashes DIR] [--sootctl PATH] [--seconds LIMIT]
//
// Each mutant of a seed file (bit flips, interesting bytes and 32-bit values, truncation,
// inserted and duplicated ranges, header fields set large) is written to a temporary file and
// read by `sootctl info` under an address-space limit (`ulimit -v`, default 4 GB) and a time
// limit. Exit 0 or 1 is a handled file; a signal (abort, SIGILL, SIGSEGV, out of memory) is a
// crash and a time-out is a hang: both are saved to --crashes (for the regression corpus) and
// make the exit status 1. The same seed gives the same mutants.
import Dispatch
import Foundation
import Randomness

struct Options {
    var seeds: [String] = []
    var count = 1000
    var seed: UInt64 = 1
    var jobs = ProcessInfo.processInfo.activeProcessorCount
    var memoryMB = 4096
    var timeoutSeconds = 20.0
    var crashes: String?
    var sootctl = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("sootctl").path
    var secondsLimit: Double?
}

func parseOptions() -> Options {
    var o = Options()
    var args = Array(CommandLine.arguments.dropFirst())
    func value() -> String {
        guard !args.isEmpty else { FileHandle.standardError.write(Data("sootfuzz: missing value\n".utf8)); exit(2) }
        return args.removeFirst()
    }
    while !args.isEmpty {
        let a = args.removeFirst()
        switch a {
        case "--seeds": while let next = args.first, !next.hasPrefix("--") { o.seeds.append(args.removeFirst()) }
        case "--count": o.count = Int(value()) ?? o.count
        case "--seed": o.seed = UInt64(value()) ?? o.seed
        case "--jobs": o.jobs = max(1, Int(value()) ?? o.jobs)
        case "--memory-mb": o.memoryMB = Int(value()) ?? o.memoryMB
        case "--timeout-s": o.timeoutSeconds = Double(value()) ?? o.timeoutSeconds
        case "--crashes": o.crashes = value()
        case "--sootctl": o.sootctl = value()
        case "--seconds": o.secondsLimit = Double(value())
        default:
            FileHandle.standardError.write(Data("sootfuzz: unknown argument \(a)\n".utf8))
            exit(2)
        }
    }
    return o
}

/// Seed files: the given files, and the PNG, TIFF, JPEG and DM3/DM4 files of given folders.
func seedFiles(_ paths: [String]) -> [(name: String, bytes: [UInt8])] {
    var out: [(String, [UInt8])] = []
    let fm = FileManager.default
    for path in paths {
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
        let files = isDirectory.boolValue
            ? ((try? fm.contentsOfDirectory(atPath: path)) ?? []).sorted()
                .filter { ["png", "tif", "tiff", "jpg", "jpeg", "dm3", "dm4"].contains(($0 as NSString).pathExtension.lowercased()) }
                .map { (path as NSString).appendingPathComponent($0) }
            : [path]
        for f in files {
            guard let data = fm.contents(atPath: f), !data.isEmpty, data.count <= 1 << 20 else { continue }
            out.append(((f as NSString).lastPathComponent, [UInt8](data)))
        }
    }
    return out
}

/// One mutant of `bytes`: 1-4 mutations drawn from the generator.
func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
    var b = input
    func index() -> Int { Int(rng.next() % UInt64(max(b.count, 1))) }
    let interesting: [UInt32] = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 30000, 65535, 1 << 20]
    for _ in 0..<(1 + Int(rng.next() % 4)) {
        guard !b.isEmpty else { b = [0]; continue }
        switch rng.next() % 8 {
        case 0: b[index()] ^= UInt8(1 << (rng.next() % 8))
        case 1: b[index()] = UInt8(truncatingIfNeeded: rng.next())
        case 2, 3:
            // A 32-bit value in either byte order, most often in the first 64 bytes (headers).
            let at = rng.next() % 3 == 0 ? index() : Int(rng.next() % UInt64(min(64, b.count)))
            let v = interesting[Int(rng.next() % UInt64(interesting.count))]
            let bigEndian = rng.next() % 2 == 0
            for k in 0..<4 where at + k < b.count {
                let shift = bigEndian ? 24 - 8 * k : 8 * k
                b[at + k] = UInt8(truncatingIfNeeded: v >> UInt32(shift))
            }
        case 4: b.removeLast(Int(rng.next() % UInt64(b.count)))
        case 5:
            let at = index(), length = min(Int(rng.next() % 64) + 1, b.count - at)
            b.insert(contentsOf: b[at..<(at + length)], at: index())
        case 6:
            let at = index()
            b.insert(contentsOf: (0..<(1 + Int(rng.next() % 16))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
        default:
            let at = index(), length = min(Int(rng.next() % 32) + 1, b.count - at)
            b.removeSubrange(at..<(at + length))
        }
    }
    if rng.next() % 2 == 0 { mutateTIFFDirectory(&b, &rng, interesting: interesting) }
    if rng.next() % 4 != 0 { fixPNGChecksums(&b) }
    return b
}

/// CRC-32 (PNG's, the zlib polynomial).
func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
    return ~c
}

/// Rewrites every PNG chunk's CRC so that a mutant gets past libpng's checksum test and
/// reaches the code behind it.
func fixPNGChecksums(_ b: inout [UInt8]) {
    guard b.count > 8, b[0] == 137, b[1] == 80 else { return }
    var offset = 8
    while offset + 12 <= b.count {
        let length = Int(UInt32(b[offset]) << 24 | UInt32(b[offset + 1]) << 16 | UInt32(b[offset + 2]) << 8 | UInt32(b[offset + 3]))
        let end = offset + 12 + length
        guard length >= 0, end <= b.count else { return }
        let crc = crc32(b[(offset + 4)..<(offset + 8 + length)])
        for k in 0..<4 { b[offset + 8 + length + k] = UInt8(truncatingIfNeeded: crc >> UInt32(24 - 8 * k)) }
        offset = end
    }
}

/// Sets one field of a TIFF's first directory (the tag's count or value) to an interesting value.
func mutateTIFFDirectory(_ b: inout [UInt8], _ rng: inout SplitMix64, interesting: [UInt32]) {
    guard b.count >= 8, (b[0] == 0x49 && b[1] == 0x49) || (b[0] == 0x4D && b[1] == 0x4D), b[2] == 42 || b[3] == 42 else { return }
    let little = b[0] == 0x49
    func read(_ at: Int, _ n: Int) -> Int {
        var v = 0
        for k in 0..<n { v |= Int(b[at + k]) << (8 * (little ? k : n - 1 - k)) }
        return v
    }
    let ifd = read(4, 4)
    guard ifd + 2 <= b.count else { return }
    let entries = read(ifd, 2)
    guard entries > 0, ifd + 2 + 12 * entries <= b.count else { return }
    let entry = ifd + 2 + 12 * Int(rng.next() % UInt64(entries))
    let field = entry + (rng.next() % 2 == 0 ? 4 : 8)  // count or value/offset
    let v = interesting[Int(rng.next() % UInt64(interesting.count))]
    for k in 0..<4 { b[field + k] = UInt8(truncatingIfNeeded: v >> UInt32(8 * (little ? k : 3 - k))) }
}

enum Outcome { case handled, crashed(String), hung }

/// Runs `sootctl info FILE` under the limits.
func run(_ file: String, _ o: Options) -> Outcome {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", "ulimit -v \(o.memoryMB * 1024); exec \"$0\" info \"$1\"", o.sootctl, file]
    p.standardOutput = FileHandle.nullDevice
    let err = Pipe()
    p.standardError = err
    do { try p.run() } catch { return .crashed("cannot start: \(error)") }
    let done = DispatchSemaphore(value: 0)
    final class Box: @unchecked Sendable { var data = Data() }
    let box = Box()
    DispatchQueue.global().async {
        box.data = err.fileHandleForReading.readDataToEndOfFile()
        done.signal()
    }
    if done.wait(timeout: .now() + o.timeoutSeconds) == .timedOut {
        p.terminate()
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        return .hung
    }
    p.waitUntilExit()
    let text = String(decoding: box.data, as: UTF8.self)
    if p.terminationReason == .uncaughtSignal { return .crashed("signal \(p.terminationStatus)") }
    if text.contains("Fatal error") || !(0...1).contains(p.terminationStatus) {
        return .crashed("exit \(p.terminationStatus): \(text.prefix(200))")
    }
    return .handled
}

let o = parseOptions()
let seeds = seedFiles(o.seeds)
guard !seeds.isEmpty else {
    FileHandle.standardError.write(Data("sootfuzz: no seed files (PNG, TIFF, JPEG, DM3, DM4) in \(o.seeds)\n".utf8))
    exit(2)
}
let work = FileManager.default.temporaryDirectory.appendingPathComponent("sootfuzz-\(getpid())")
try? FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: work) }
if let c = o.crashes { try? FileManager.default.createDirectory(atPath: c, withIntermediateDirectories: true) }

let lock = NSLock()
var handled = 0, crashes = 0, hangs = 0, done = 0
let started = Date()
let tty = isatty(2) != 0
DispatchQueue.concurrentPerform(iterations: o.jobs) { job in
    var k = job
    while k < o.count {
        if let limit = o.secondsLimit, Date().timeIntervalSince(started) > limit { break }
        let (name, bytes) = seeds[k % seeds.count]
        var rng = SplitMix64(seed: o.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(k))
        let mutant = mutate(bytes, &rng)
        let ext = (name as NSString).pathExtension
        let file = work.appendingPathComponent("m\(k).\(ext)").path
        _ = FileManager.default.createFile(atPath: file, contents: Data(mutant))
        let outcome = run(file, o)
        lock.lock()
        switch outcome {
        case .handled: handled += 1
        case let .crashed(why):
            crashes += 1
            FileHandle.standardError.write(Data("\nsootfuzz: crash on mutant \(k) of \(name): \(why)\n".utf8))
        case .hung:
            hangs += 1
            FileHandle.standardError.write(Data("\nsootfuzz: hang on mutant \(k) of \(name)\n".utf8))
        }
        if case .handled = outcome {} else if let c = o.crashes {
            try? FileManager.default.copyItem(atPath: file, toPath: (c as NSString).appendingPathComponent("seed\(o.seed)_\(k)_\(name)"))
        }
        done += 1
        if tty && done % 50 == 0 {
            FileHandle.standardError.write(Data(String(format: "\r\u{1B}[K%d/%d mutants, %d crashes, %d hangs", done, o.count, crashes, hangs).utf8))
        }
        lock.unlock()
        try? FileManager.default.removeItem(atPath: file)
        k += o.jobs
    }
}
if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
let seconds = Date().timeIntervalSince(started)
print(String(format: "sootfuzz: %d mutants of %d seed file(s) in %.0f s (%.0f/s) under %d MB: %d handled, %d crashes, %d hangs",
             done, seeds.count, seconds, Double(done) / max(seconds, 1e-9), o.memoryMB, handled, crashes, hangs))
exit(crashes + hangs == 0 ? 0 : 1)
