import Report

/// The paper's figures (Sipkens et al., Powder Technology 2021, Tables 3 and 4: 60 validation
/// images, 158 slider aggregates; METHODS.md 8), set beside a comparison's own in its report.
public enum PaperFigures {
    /// Table 3 for the recommended variants, by classifier: variant, IoU excluding (including)
    /// failed images, failed images, aggregates (added / removed), Δda,m, Δda,g.
    public static let segmentation: [(classifier: String, row: [String])] = [
        ("cnn", ["CNN + RB + 1,000 px", "94 %", "0", "166 (+9 / -1)", "-0.43 %", "-4.5 %"]),
        ("kmeans", ["k-means + 1,000 px", "89 % (23 %)", "11", "165 (+29 / -22)", "-0.01 %", "-9.2 %"]),
        ("otsu", ["Otsu + RB", "78 % (11 %)", "18", "260 (+139 / -37)", "-39 %", "-48 %"]),
        ("tws", ["TWS (incl. 1,000 px)", "87 % (86 %)", "2", "205 (+59 / -12)", "-10 %", "-22 %"]),
    ]

    /// Table 4, dp,g in nm (σg) by Hough, EDM-SBS, PCM, EDM-WS, by mask.
    public static let sizing: [(classifier: String, row: [String])] = [
        ("truth", ["slider (truth)", "17.4 (1.44)", "19.0 (1.52)", "18.4 (1.52)", "29.2 (1.44)"]),
        ("cnn", ["CNN + RB + 1,000 px", "17.6 (1.46)", "19.8 (1.49)", "20.8 (1.45)", "31.2 (1.39)"]),
        ("kmeans", ["k-means (incl. RB)", "16.7 (1.47)", "13.8 (2.42)", "16.3 (1.99)", "24.7 (1.99)"]),
        ("otsu", ["Otsu + RB", "17.4 (1.42)", "12.2 (2.02)", "9.1 (1.87)", "19.6 (1.70)"]),
        ("tws", ["TWS", "17.5 (1.45)", "14.1 (1.83)", "13.4 (1.83)", "20.4 (1.70)"]),
    ]

    /// The paper's Table 3 rows of `classifiers`, as a table.
    public static func segmentationTable(for classifiers: Set<String>) -> Table {
        Table(columns: ["classifier", "iou", "failed_images", "aggregates", "da_median_difference", "da_geometric_mean_difference"],
              rows: segmentation.filter { classifiers.contains($0.classifier) }.map(\.row))
    }

    /// The paper's Table 4 rows of the truth and `classifiers`, as a table.
    public static func sizingTable(for classifiers: Set<String>) -> Table {
        Table(columns: ["mask", "hough", "edm-sbs", "pcm", "edm-ws"],
              rows: sizing.filter { $0.classifier == "truth" || classifiers.contains($0.classifier) }.map(\.row))
    }
}
