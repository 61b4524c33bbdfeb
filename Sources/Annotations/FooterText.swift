import Foundation
import ImageCore

/// The calibration an instrument prints in its footer, as UBC's footers carry it
/// (`Cal: 0.421 nm/pix`), read by OCR (atems `+tools/load_imgs.m`, METHODS.md section 2 step 3).
public struct FooterCalibration: Sendable, Equatable, Codable {
    /// The text read, as Tesseract gave it.
    public var text: String
    /// The calibration token matched (`0.421 nm/pix`).
    public var token: String
    public var pixelSizeNm: Double
}

public enum FooterText {
    /// One block reader for the process.
    public static let reader = TesseractReader(mode: .block)

    /// Reads the footer (rows `startRow...` of `image`) and finds a `NUMBER nm/pix` token.
    /// - Returns: the calibration, or nil (no footer text, no token, no OCR data).
    public static func calibration(in image: GrayImage, footerStartRow: Int, reader: TesseractReader = reader) -> FooterCalibration? {
        guard reader.unavailableReason == nil, footerStartRow > 0, footerStartRow < image.height else { return nil }
        let rows = image.height - footerStartRow
        // Dark text on white, enlarged so that small footer text reaches Tesseract's size.
        var values = [Float](repeating: 0, count: rows * image.width)
        for r in 0..<rows { for c in 0..<image.width { values[r * image.width + c] = image[footerStartRow + r, c] } }
        let mean = values.reduce(0, +) / Float(values.count)
        if mean < 0.5 { values = values.map { 1 - $0 } }
        var footer = GrayImage(width: image.width, height: rows)
        footer.pixels = values
        let scale = rows < 120 ? 2 : 1
        if scale > 1 { footer = resize(footer, width: image.width * scale, height: rows * scale, method: .bilinear) }
        guard let text = reader.read(footer) else { return nil }
        return parse(text)
    }

    /// The first `NUMBER UNIT/pix` token of a footer's text: units nm, um / µm and pm (the
    /// last an OCR misread of µm, scaled as µm, as atems does), `pix` with the misreads atems
    /// accepts (`lpix`, `plx`, `101x`, `p1x`, `pIx`); digits repaired (o/O -> 0, I/l -> 1)
    /// only when the number does not parse as it is.
    public static func parse(_ text: String) -> FooterCalibration? {
        let pattern = #"([0-9oOIl][0-9oOIl.,]*)\s*(nm|um|µm|μm|pm)\s*[/lI1|]?\s*(pix|plx|p1x|pIx|101x|pi x)"#
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
        let range = NSRange(text.startIndex..., in: text)
        for match in regex.matches(in: text, range: range) {
            guard let numberRange = Range(match.range(at: 1), in: text), let unitRange = Range(match.range(at: 2), in: text),
                  let whole = Range(match.range, in: text) else { continue }
            var number = String(text[numberRange]).replacingOccurrences(of: ",", with: ".")
            if Double(number) == nil {
                number = number.replacingOccurrences(of: "o", with: "0").replacingOccurrences(of: "O", with: "0")
                    .replacingOccurrences(of: "I", with: "1").replacingOccurrences(of: "l", with: "1")
            }
            guard let value = Double(number), value > 0, value.isFinite else { continue }
            let unit = String(text[unitRange])
            let nm = unit == "nm" ? value : value * 1000
            guard ScaleBarDetector.plausibleRangeNm.contains(nm) else { continue }
            return FooterCalibration(text: text, token: String(text[whole]), pixelSizeNm: nm)
        }
        return nil
    }
}
