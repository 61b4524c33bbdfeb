import Foundation
import ImageCore
internal import CTesseract

/// Reads scale labels with Tesseract (the OCR engine the field uses; atems calls it through
/// MATLAB's `ocr`), through its C API: one line (`PSM_SINGLE_LINE`), LSTM engine, characters
/// limited to digits, the decimal point and comma, and the letters of length units.
///
/// The language data (`eng.traineddata`) is looked for in `$TESSDATA_PREFIX`, then in the
/// folders Debian, Homebrew and source installs use. Without it the reader says why
/// (`unavailableReason`) and no label is read: the pixel size must then come from elsewhere.
public final class TesseractReader: LabelReader, @unchecked Sendable {
    private let handle: OpaquePointer?
    private let lock = NSLock()
    public let dataPath: String?
    public let unavailableReason: String?

    /// Characters a scale label uses.
    public static let whitelist = "0123456789.,nmuµμÅ"

    /// Folders searched for `eng.traineddata`, in order.
    public static func dataFolders() -> [String] {
        var out: [String] = []
        if let prefix = ProcessInfo.processInfo.environment["TESSDATA_PREFIX"], !prefix.isEmpty {
            out += [prefix, (prefix as NSString).appendingPathComponent("tessdata")]
        }
        out += ["/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata", "/usr/share/tessdata",
                "/usr/local/share/tessdata", "/opt/homebrew/share/tessdata", "/usr/local/share/tesseract-ocr/tessdata"]
        return out
    }

    /// How the reader reads: one line of a scale label, or a block of free text (a footer).
    public enum Mode: Sendable {
        /// One line, characters limited to `whitelist`.
        case scaleLabel
        /// A block of text, any characters (an instrument's footer).
        case block
    }

    public convenience init() { self.init(mode: .scaleLabel) }

    public init(mode: Mode) {
        let folder = Self.dataFolders().first {
            FileManager.default.fileExists(atPath: ($0 as NSString).appendingPathComponent("eng.traineddata"))
        }
        dataPath = folder
        guard let folder else {
            handle = nil
            unavailableReason = "no Tesseract language data (eng.traineddata) in \(Self.dataFolders().prefix(3).joined(separator: ", ")); install tesseract-ocr-eng or set TESSDATA_PREFIX"
            return
        }
        let api = TessBaseAPICreate()
        // OEM_LSTM_ONLY = 1.
        guard let api, TessBaseAPIInit2(api, folder, "eng", OEM_LSTM_ONLY) == 0 else {
            if let api { TessBaseAPIDelete(api) }
            handle = nil
            unavailableReason = "Tesseract could not load its language data from \(folder)"
            return
        }
        switch mode {
        case .scaleLabel:
            TessBaseAPISetPageSegMode(api, PSM_SINGLE_LINE)
            _ = TessBaseAPISetVariable(api, "tessedit_char_whitelist", Self.whitelist)
        case .block:
            TessBaseAPISetPageSegMode(api, PSM_SINGLE_BLOCK)
        }
        _ = TessBaseAPISetVariable(api, "debug_file", "/dev/null")
        handle = api
        unavailableReason = nil
    }

    deinit {
        if let handle {
            TessBaseAPIEnd(handle)
            TessBaseAPIDelete(handle)
        }
    }

    public func read(_ crop: GrayImage) -> String? {
        guard let handle, crop.width > 0, crop.height > 0 else { return nil }
        let bytes = crop.pixels.map { UInt8(min(max($0, 0), 1) * 255 + 0.5) }
        lock.lock()
        defer { lock.unlock() }
        return bytes.withUnsafeBufferPointer { p -> String? in
            TessBaseAPISetImage(handle, p.baseAddress, Int32(crop.width), Int32(crop.height), 1, Int32(crop.width))
            TessBaseAPISetSourceResolution(handle, 300)
            defer { TessBaseAPIClear(handle) }
            // (Tesseract's confidences were no guide here, 0-60 for correct labels: the caller votes.)
            guard let text = TessBaseAPIGetUTF8Text(handle) else { return nil }
            defer { TessDeleteText(text) }
            let s = String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
            return s.isEmpty ? nil : s
        }
    }
}
