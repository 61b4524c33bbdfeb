/// The instrument's data bar at the bottom of a TEM image, as found by `detectFooter`.
public struct Footer: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// A bright bar (UBC style): a row whose mean exceeds 90 % of white.
        case white
        /// A black bar (e.g. NRC images): a row that is exactly 0 everywhere.
        case black
        /// A data bar whose first row the file's metadata gives (FEI / Thermo Fisher's
        /// `[Image] ResolutionY` below the stored height).
        case databar
    }
    /// Which rule found it.
    public let kind: Kind
    /// First footer row; the image proper is rows 0..<startRow.
    public let startRow: Int

    public init(kind: Kind, startRow: Int) {
        self.kind = kind
        self.startRow = startRow
    }
}

/// Finds the footer of a TEM image (atems `+tools/load_imgs.m`, METHODS.md section 2).
///
/// White footer: the first row, scanning from the top, whose sum exceeds 0.9 x width x white.
/// Black footer (py-atems addition): if there is no white row, the first row whose sum is
/// exactly zero. The scan starts at row 1: a footer at row 0 would leave no image.
/// - Parameters:
///   - image: the image, values 0...1 (white = 1 whatever the bit depth).
///   - bottomQuarterOnly: search only the bottom quarter, so that an over-exposed row inside
///     the image is not taken for a footer (not the reference behaviour; off by default).
/// - Returns: the footer, or nil when there is none.
public func detectFooter(_ image: GrayImage, bottomQuarterOnly: Bool = false) -> Footer? {
    let firstRow = bottomQuarterOnly ? image.height - image.height / 4 : 1
    guard firstRow < image.height else { return nil }
    let limit = 0.9 * Double(image.width)
    var firstBlack: Int?
    var firstWhiteFound: Int?
    image.pixels.withUnsafeBufferPointer { p in
        for r in firstRow..<image.height {
            var sum = 0.0
            var anyNonzero = false
            let base = r * image.width
            for c in 0..<image.width {
                let v = p[base + c]
                sum += Double(v)
                anyNonzero = anyNonzero || v != 0
            }
            if sum > limit {
                firstWhiteFound = r
                return
            }
            if !anyNonzero && firstBlack == nil { firstBlack = r }
        }
    }
    if let white = firstWhiteFound { return Footer(kind: .white, startRow: white) }
    if let black = firstBlack { return Footer(kind: .black, startRow: black) }
    return nil
}

/// The footer sootctl crops: `detectFooter`'s, unless it would leave less than half the
/// image. A uniform bar that high up is the image itself (an all-black or over-exposed
/// frame, a camera's bright border), not an instrument's data bar, and cropping there would
/// leave a sliver to analyse. A deviation from atems, which crops at any row.
/// - Returns: the footer and, when one was found but not used, why.
public func detectInstrumentFooter(_ image: GrayImage, metadataStartRow: Int? = nil) -> (footer: Footer?, ignored: String?) {
    if let row = metadataStartRow, row > 0, row < image.height { return (Footer(kind: .databar, startRow: row), nil) }
    guard let found = detectFooter(image) else { return (nil, nil) }
    if found.startRow * 2 < image.height {
        return (nil, "a \(found.kind.rawValue) bar from row \(found.startRow) was not taken for a footer "
            + "(it would leave less than half of the image)")
    }
    return (found, nil)
}
