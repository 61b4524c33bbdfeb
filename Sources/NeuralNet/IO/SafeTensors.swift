import Foundation

/// Reads and writes the safetensors format (an 8-byte little-endian header length, a JSON
/// header of name -> dtype, shape, data offsets, then raw little-endian data), which PyTorch
/// reads and writes with `safetensors.torch.load_file` / `save_file`.
public enum SafeTensors {
    /// Element types written: F32 (default), F16 (half the size, for shipped models), I64 for
    /// integer buffers such as `num_batches_tracked`.
    public enum FloatFormat: String, Sendable { case float32 = "F32", float16 = "F16" }

    /// Decodes a safetensors file into a state dict (F32, F16, BF16, F64, I64, I32, I16, I8, U8,
    /// BOOL are converted to Float) and its string metadata.
    /// - Throws: `NeuralNetError.invalidFile` naming the problem.
    public static func read(_ path: String) throws -> (state: StateDict, metadata: [String: String]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NeuralNetError.invalidFile(path: path, reason: "cannot read the file")
        }
        return try decode([UInt8](data), path: path)
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> (state: StateDict, metadata: [String: String]) {
        guard bytes.count >= 8 else { throw NeuralNetError.invalidFile(path: path, reason: "too short for a safetensors header") }
        var headerLength = 0
        for i in 0..<8 { headerLength |= Int(bytes[i]) << (8 * i) }
        guard headerLength > 0, 8 + headerLength <= bytes.count else {
            throw NeuralNetError.invalidFile(path: path, reason: "header length \(headerLength) exceeds the file size")
        }
        let headerData = Data(bytes[8..<(8 + headerLength)])
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw NeuralNetError.invalidFile(path: path, reason: "the header is not a JSON object")
        }
        let dataStart = 8 + headerLength
        var entries: [String: StateDict.Entry] = [:]
        var ordered: [(Int, String)] = []
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = (info["shape"] as? [NSNumber])?.map({ $0.intValue }),
                  let offsets = (info["data_offsets"] as? [NSNumber])?.map({ $0.intValue }), offsets.count == 2 else {
                throw NeuralNetError.invalidFile(path: path, reason: "bad header entry for \(name)")
            }
            let count = shape.reduce(1, *)
            let begin = dataStart + offsets[0], end = dataStart + offsets[1]
            guard begin <= end, end <= bytes.count else {
                throw NeuralNetError.invalidFile(path: path, reason: "\(name) lies outside the file (truncated?)")
            }
            let values = try convert(bytes, begin: begin, end: end, count: count, dtype: dtype, name: name, path: path)
            let isInteger = dtype.hasPrefix("I") || dtype.hasPrefix("U")
            entries[name] = StateDict.Entry(tensor: Tensor(uncheckedShape: shape, data: values), isInteger: isInteger)
            ordered.append((offsets[0], name))
        }
        return (StateDict(entries: entries, order: ordered.sorted { $0.0 < $1.0 }.map { $0.1 }), metadata)
    }

    private static func convert(_ bytes: [UInt8], begin: Int, end: Int, count: Int, dtype: String,
                                name: String, path: String) throws -> [Float] {
        let sizes = ["F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1]
        guard let size = sizes[dtype] else {
            throw NeuralNetError.invalidFile(path: path, reason: "\(name) has unsupported dtype \(dtype)")
        }
        guard end - begin == count * size else {
            throw NeuralNetError.invalidFile(path: path, reason: "\(name): \(end - begin) bytes for \(count) x \(dtype)")
        }
        var out = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + begin
            // One loop per element type (the type is decided once, not per element).
            func fill(_ convert: (UnsafeRawPointer) -> Float) {
                out.withUnsafeMutableBufferPointer { o in
                    for i in 0..<count { o[i] = convert(base + i * size) }
                }
            }
            switch dtype {
            case "F32": fill { Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
            case "F64": fill { Float(Double(bitPattern: UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)))) }
            case "F16": fill { Float(Float16(bitPattern: UInt16(littleEndian: $0.loadUnaligned(as: UInt16.self)))) }
            case "BF16": fill { Float(bitPattern: UInt32(UInt16(littleEndian: $0.loadUnaligned(as: UInt16.self))) << 16) }
            case "I64": fill { Float(Int64(littleEndian: $0.loadUnaligned(as: Int64.self))) }
            case "I32": fill { Float(Int32(littleEndian: $0.loadUnaligned(as: Int32.self))) }
            case "I16": fill { Float(Int16(littleEndian: $0.loadUnaligned(as: Int16.self))) }
            case "I8": fill { Float($0.load(as: Int8.self)) }
            default: fill { Float($0.load(as: UInt8.self)) }
            }
        }
        return out
    }

    /// Encodes a state dict; floats as `format`, integer entries as I64.
    public static func encode(_ state: StateDict, format: FloatFormat = .float32, metadata: [String: String] = [:]) -> [UInt8] {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        var payload: [UInt8] = []
        for name in state.order {
            guard let entry = state.entries[name] else { continue }
            let dtype = entry.isInteger ? "I64" : format.rawValue
            let start = offset
            switch dtype {
            case "I64":
                for v in entry.tensor.data { withUnsafeBytes(of: Int64(v).littleEndian) { payload += $0 } }
            case "F16":
                for v in entry.tensor.data { withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { payload += $0 } }
            default:
                payload.reserveCapacity(payload.count + entry.tensor.count * 4)
                entry.tensor.data.withUnsafeBytes { payload += $0 }  // little-endian hosts
            }
            offset = payload.count
            header[name] = ["dtype": dtype, "shape": entry.tensor.shape, "data_offsets": [start, offset]]
        }
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = [UInt8]()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out += $0 }
        out += json
        out += payload
        return out
    }

    /// Writes a state dict atomically (temporary file, then rename).
    public static func write(_ state: StateDict, to path: String, format: FloatFormat = .float32,
                             metadata: [String: String] = [:]) throws {
        do {
            try Data(encode(state, format: format, metadata: metadata)).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw NeuralNetError.invalidFile(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
