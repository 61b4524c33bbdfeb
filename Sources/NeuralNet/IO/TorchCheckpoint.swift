import Foundation
import ZIPFoundation

/// Reads PyTorch checkpoints written by `torch.save` (the zip format of PyTorch >= 1.6): a
/// state dict, or a dict holding one under "model" or "state_dict" (as ignite and
/// CarbonBlackSegmentation save them). No Python is involved: the archive's `data.pkl` is run
/// through a small pickle machine that understands the opcodes `torch.save` emits, and tensor
/// storages are read from `data/<key>`. "module." prefixes left by DataParallel are removed.
public enum TorchCheckpoint {
    /// Loads the model state dict from a `.pt`/`.pth` file.
    /// - Throws: `NeuralNetError.invalidFile` when the file is not a torch zip checkpoint or
    ///   holds no state dict.
    public static func read(_ path: String) throws -> StateDict {
        let url = URL(fileURLWithPath: path)
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw NeuralNetError.invalidFile(
                path: path, reason: "not a PyTorch zip checkpoint (legacy pre-1.6 files are not supported; re-save with torch.save)")
        }
        guard let pickleEntry = archive.first(where: { $0.path.hasSuffix("data.pkl") }) else {
            throw NeuralNetError.invalidFile(path: path, reason: "zip archive without data.pkl: not a torch.save file")
        }
        let root = String(pickleEntry.path.dropLast("data.pkl".count))
        if let order = archive[root + "byteorder"], let text = try? readEntry(archive, order, path: path),
           String(decoding: text, as: UTF8.self) != "little" {
            throw NeuralNetError.invalidFile(path: path, reason: "big-endian checkpoints are not supported")
        }
        let pickle = try readEntry(archive, pickleEntry, path: path)
        var storages: [String: [UInt8]] = [:]
        let loader: (String) throws -> [UInt8] = { key in
            if let cached = storages[key] { return cached }
            guard let entry = archive[root + "data/" + key] else {
                throw NeuralNetError.invalidFile(path: path, reason: "storage \(key) missing from the archive")
            }
            let bytes = try readEntry(archive, entry, path: path)
            storages[key] = bytes
            return bytes
        }
        var machine = PickleMachine(bytes: pickle, path: path, storageLoader: loader)
        let value = try machine.run()
        guard let state = try findStateDict(value) else {
            throw NeuralNetError.invalidFile(path: path, reason: "no state dict of tensors found (looked at the top level, \"model\" and \"state_dict\")")
        }
        return state
    }

    private static func readEntry(_ archive: Archive, _ entry: Entry, path: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(entry.uncompressedSize))
        do {
            _ = try archive.extract(entry, skipCRC32: true) { bytes += $0 }
        } catch {
            throw NeuralNetError.invalidFile(path: path, reason: "cannot read \(entry.path): \(error)")
        }
        return bytes
    }

    private static func findStateDict(_ value: PickleValue) throws -> StateDict? {
        guard case let .dict(box) = value else { return nil }
        var entries: [String: StateDict.Entry] = [:]
        var order: [String] = []
        var allTensors = !box.items.isEmpty
        for (key, item) in box.items {
            guard case let .string(name) = key, case let .tensor(t) = item else { allTensors = false; break }
            var clean = name
            while clean.hasPrefix("module.") { clean.removeFirst("module.".count) }
            entries[clean] = StateDict.Entry(tensor: t.tensor, isInteger: t.isInteger)
            order.append(clean)
        }
        if allTensors { return StateDict(entries: entries, order: order) }
        for wanted in ["model", "state_dict", "model_state_dict"] {
            if let inner = box.items.first(where: { if case .string(wanted) = $0.0 { return true }; return false })?.1,
               let found = try findStateDict(inner) {
                return found
            }
        }
        return nil
    }
}

/// A tensor rebuilt from a checkpoint, with its integer flag (for `num_batches_tracked`).
struct TorchTensorValue {
    var tensor: Tensor
    var isInteger: Bool
}

final class PickleList { var items: [PickleValue] = [] }
final class PickleDict { var items: [(PickleValue, PickleValue)] = [] }

/// The values a torch.save pickle builds.
indirect enum PickleValue {
    case none, mark
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    case global(String)
    /// A storage reference: dtype name, archive key, element count.
    case storage(type: String, key: String, count: Int)
    case tensor(TorchTensorValue)
    /// Anything else (optimizer objects, hooks): kept opaque.
    case object(String)
}

/// Executes the subset of the pickle protocol (versions 2-5) that `torch.save` produces.
struct PickleMachine {
    let bytes: [UInt8]
    let path: String
    let storageLoader: (String) throws -> [UInt8]
    var position = 0
    var stack: [PickleValue] = []
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]

    init(bytes: [UInt8], path: String, storageLoader: @escaping (String) throws -> [UInt8]) {
        self.bytes = bytes
        self.path = path
        self.storageLoader = storageLoader
    }

    private func fail(_ reason: String) -> NeuralNetError {
        .invalidFile(path: path, reason: "checkpoint pickle: \(reason)")
    }

    private mutating func read(_ n: Int) throws -> ArraySlice<UInt8> {
        guard position + n <= bytes.count else { throw fail("unexpected end of data") }
        defer { position += n }
        return bytes[position..<(position + n)]
    }

    private mutating func readInt(_ n: Int) throws -> Int {
        var v = 0
        for (i, b) in try read(n).enumerated() { v |= Int(b) << (8 * i) }
        return v
    }

    private mutating func line() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw fail("unterminated line") }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    private mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw fail("stack underflow") }
        return v
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast(), m <= stack.count else { throw fail("mark missing") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    mutating func run() throws -> PickleValue {
        while position < bytes.count {
            let op = bytes[position]
            position += 1
            switch op {
            case 0x80: _ = try read(1)  // PROTO
            case 0x95: _ = try read(8)  // FRAME
            case 0x2E: return try pop()  // STOP
            case 0x28: marks.append(stack.count)  // MARK
            case 0x7D: stack.append(.dict(PickleDict()))  // EMPTY_DICT
            case 0x5D: stack.append(.list(PickleList()))  // EMPTY_LIST
            case 0x29: stack.append(.tuple([]))  // EMPTY_TUPLE
            case 0x4E: stack.append(.none)
            case 0x88: stack.append(.bool(true))
            case 0x89: stack.append(.bool(false))
            case 0x4B: stack.append(.int(try readInt(1)))  // BININT1
            case 0x4D: stack.append(.int(try readInt(2)))  // BININT2
            case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try readInt(4)))))  // BININT
            case 0x8A:  // LONG1
                let n = try readInt(1)
                let raw = try read(n)
                var v = 0
                for (i, b) in raw.enumerated() where i < 8 { v |= Int(b) << (8 * i) }
                if n > 0 && n < 8 && raw.last! & 0x80 != 0 { v -= 1 << (8 * n) }
                stack.append(.int(v))
            case 0x47:  // BINFLOAT (big-endian double)
                var bits: UInt64 = 0
                for b in try read(8) { bits = bits << 8 | UInt64(b) }
                stack.append(.float(Double(bitPattern: bits)))
            case 0x58: let n = try readInt(4); stack.append(.string(String(decoding: try read(n), as: UTF8.self)))
            case 0x8C: let n = try readInt(1); stack.append(.string(String(decoding: try read(n), as: UTF8.self)))
            case 0x8D: let n = try readInt(8); stack.append(.string(String(decoding: try read(n), as: UTF8.self)))
            case 0x43: let n = try readInt(1); stack.append(.bytes(Array(try read(n))))  // SHORT_BINBYTES
            case 0x42: let n = try readInt(4); stack.append(.bytes(Array(try read(n))))  // BINBYTES
            case 0x71: memo[try readInt(1)] = stack.last  // BINPUT
            case 0x72: memo[try readInt(4)] = stack.last  // LONG_BINPUT
            case 0x94: memo[memo.count] = stack.last  // MEMOIZE
            case 0x68: stack.append(try memoValue(try readInt(1)))  // BINGET
            case 0x6A: stack.append(try memoValue(try readInt(4)))  // LONG_BINGET
            case 0x63: let module = try line(); let name = try line(); stack.append(.global(module + "." + name))
            case 0x93:  // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard case let .string(m) = module, case let .string(n) = name else { throw fail("bad STACK_GLOBAL") }
                stack.append(.global(m + "." + n))
            case 0x74: stack.append(.tuple(try popMark()))  // TUPLE
            case 0x85: stack.append(.tuple([try pop()]))
            case 0x86: let b = try pop(), a = try pop(); stack.append(.tuple([a, b]))
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple([a, b, c]))
            case 0x6C: let l = PickleList(); l.items = try popMark(); stack.append(.list(l))  // LIST
            case 0x64:  // DICT
                let items = try popMark()
                let d = PickleDict()
                for i in stride(from: 0, to: items.count - 1, by: 2) { d.items.append((items[i], items[i + 1])) }
                stack.append(.dict(d))
            case 0x61:  // APPEND
                let v = try pop()
                guard case let .list(l) = stack.last else { throw fail("APPEND to a non-list") }
                l.items.append(v)
            case 0x65:  // APPENDS
                let items = try popMark()
                if case let .list(l) = stack.last { l.items += items }
            case 0x73:  // SETITEM
                let v = try pop(), k = try pop()
                if case let .dict(d) = stack.last { d.items.append((k, v)) }
            case 0x75:  // SETITEMS
                let items = try popMark()
                if case let .dict(d) = stack.last {
                    for i in stride(from: 0, to: items.count - 1, by: 2) { d.items.append((items[i], items[i + 1])) }
                }
            case 0x51:  // BINPERSID
                stack.append(try persistent(try pop()))
            case 0x52:  // REDUCE
                let args = try pop(), callable = try pop()
                stack.append(try reduce(callable, args))
            case 0x81:  // NEWOBJ
                let args = try pop(), cls = try pop()
                stack.append(try reduce(cls, args))
            case 0x62:  // BUILD: object state is ignored (tensors and dicts need none)
                _ = try pop()
            case 0x30: _ = try pop()  // POP
            case 0x31: _ = try popMark()  // POP_MARK
            case 0x32: stack.append(stack.last ?? .none)  // DUP
            default:
                throw fail(String(format: "unsupported opcode 0x%02x at byte %d", op, position - 1))
            }
        }
        throw fail("no STOP opcode")
    }

    private func memoValue(_ index: Int) throws -> PickleValue {
        guard let v = memo[index] else { throw fail("memo \(index) missing") }
        return v
    }

    private func persistent(_ id: PickleValue) throws -> PickleValue {
        guard case let .tuple(items) = id, items.count >= 5, case let .global(type) = items[1],
              case let .string(key) = items[2] else { throw fail("unexpected persistent id") }
        let count: Int
        if case let .int(n) = items[4] { count = n } else { count = 0 }
        return .storage(type: type, key: key, count: count)
    }

    private func reduce(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
        guard case let .global(name) = callable else { return .object("call") }
        let arguments: [PickleValue]
        if case let .tuple(a) = args { arguments = a } else { arguments = [] }
        switch name {
        case "collections.OrderedDict", "builtins.dict":
            return .dict(PickleDict())
        case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
            return try rebuildTensor(arguments)
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            return arguments.first ?? .none
        default:
            return .object(name)
        }
    }

    private func rebuildTensor(_ a: [PickleValue]) throws -> PickleValue {
        guard a.count >= 4, case let .storage(type, key, _) = a[0], case let .int(offset) = a[1],
              case let .tuple(sizeValues) = a[2], case let .tuple(strideValues) = a[3] else {
            throw fail("unexpected tensor arguments")
        }
        let shape = try sizeValues.map { v -> Int in guard case let .int(i) = v else { throw fail("bad size") }; return i }
        let strides = try strideValues.map { v -> Int in guard case let .int(i) = v else { throw fail("bad stride") }; return i }
        let storageName = type.split(separator: ".").last.map(String.init) ?? type
        let element: (size: Int, integer: Bool)
        switch storageName {
        case "FloatStorage": element = (4, false)
        case "DoubleStorage": element = (8, false)
        case "HalfStorage", "BFloat16Storage": element = (2, false)
        case "LongStorage": element = (8, true)
        case "IntStorage": element = (4, true)
        case "ShortStorage": element = (2, true)
        case "CharStorage", "ByteStorage", "BoolStorage": element = (1, true)
        default: throw fail("unsupported storage type \(type)")
        }
        let raw = try storageLoader(key)
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        // Walk the (possibly strided) view in row-major order.
        var index = [Int](repeating: 0, count: shape.count)
        for linear in 0..<count {
            var elementOffset = offset
            for d in 0..<shape.count { elementOffset += index[d] * strides[d] }
            let byte = elementOffset * element.size
            guard byte + element.size <= raw.count else { throw fail("tensor outside its storage \(key)") }
            values[linear] = raw.withUnsafeBytes { p -> Float in
                let q = p.baseAddress! + byte
                switch storageName {
                case "FloatStorage": return Float(bitPattern: q.loadUnaligned(as: UInt32.self))
                case "DoubleStorage": return Float(Double(bitPattern: q.loadUnaligned(as: UInt64.self)))
                case "HalfStorage": return Float(Float16(bitPattern: q.loadUnaligned(as: UInt16.self)))
                case "BFloat16Storage": return Float(bitPattern: UInt32(q.loadUnaligned(as: UInt16.self)) << 16)
                case "LongStorage": return Float(q.loadUnaligned(as: Int64.self))
                case "IntStorage": return Float(q.loadUnaligned(as: Int32.self))
                case "ShortStorage": return Float(q.loadUnaligned(as: Int16.self))
                case "CharStorage": return Float(q.load(as: Int8.self))
                default: return Float(q.load(as: UInt8.self))
                }
            }
            var d = shape.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < shape[d] { break }
                index[d] = 0
                d -= 1
            }
        }
        return .tensor(TorchTensorValue(tensor: Tensor(uncheckedShape: shape, data: values), isInteger: element.integer))
    }
}
