import Foundation
import ImageCore
import PrimarySizing
import Report
import Statistics

// The comparison's tables (Tables 3-5, matches), figures (4-8) and report, built from an
// `Evaluation` and rendered by `Report`.

extension Evaluation {
    /// One line per classifier for the terminal: the raw and the sized variant's IoU and counts.
    public var summaryLines: [String] {
        variants.filter { $0.variant == .raw || $0.sized }.map { v in
            "\(v.label): IoU \(fixed(v.scores.iou, 4)) (incl. failed \(fixed(v.scoresIncludingFailed.iou, 4))), "
                + "\(v.failedImages.count) failed image(s), \(v.aggregates.count) aggregates"
        }
    }

    /// Table 3 (`segmentation.csv`).
    public var segmentationTable: Table {
        var t = Table(columns: ["classifier", "variant", "fp_percent", "fn_percent", "accuracy_percent", "failed_images",
                                "iou", "iou_including_failed", "aggregates", "matched", "added", "removed",
                                "truth_aggregates", "da_median_difference_percent", "da_geometric_mean_difference_percent"])
        let truthDa = GeometricSummary(truth.map(\.daNm))
        for v in variants {
            let da = GeometricSummary(v.aggregates.map(\.daNm))
            t.rows.append([
                v.classifier, v.variantName, fixed(v.scores.falsePositivePercent, 3), fixed(v.scores.falseNegativePercent, 3),
                fixed(v.scores.accuracyPercent, 3), String(v.failedImages.count), fixed(v.scores.iou, 4),
                fixed(v.scoresIncludingFailed.iou, 4), String(v.aggregates.count), String(v.matching.pairs.count),
                String(v.matching.added), String(-v.matching.removed), String(truth.count),
                fixed(percentDifference(da.median, truthDa.median), 2),
                fixed(percentDifference(da.geometricMean, truthDa.geometricMean), 2),
            ])
        }
        return t
    }

    /// Table 4 (`sizing.csv`): ensemble geometric mean and standard deviation of dp.
    public var sizingTable: Table {
        var t = Table(columns: ["mask", "method", "aggregates", "sized", "dp_geometric_mean_nm", "dp_geometric_sd", "dp_median_nm"])
        for row in sizedRows {
            for m in sizingMethods {
                let s = GeometricSummary(row.aggregates.compactMap { $0.dpNm[m] })
                t.rows.append([row.label, m.rawValue, String(row.aggregates.count), String(s.count),
                               fixed(s.geometricMean, 2), fixed(s.geometricStandardDeviation, 3), fixed(s.median, 2)])
            }
        }
        return t
    }

    /// The power-law fits of every sized row and method.
    public var powerLawFits: [(label: String, method: SizingMethod, fit: PowerLawFit?)] {
        var out: [(String, SizingMethod, PowerLawFit?)] = []
        for row in sizedRows {
            for m in sizingMethods {
                let pairs = row.aggregates.compactMap { a in a.dpNm[m].map { (a.daNm, $0) } }
                out.append((row.label, m, PowerLawFit(daNm: pairs.map(\.0), dpNm: pairs.map(\.1))))
            }
        }
        return out
    }

    /// Table 5 (`powerlaw.csv`): dp,100 and D_TEM with 95 % intervals, then the mean and
    /// standard deviation over the rows for each method.
    public var powerLawTable: Table {
        var t = Table(columns: ["mask", "method", "aggregates", "dp100_nm", "dp100_low_nm", "dp100_high_nm",
                                "d_tem", "d_tem_low", "d_tem_high", "r_squared"])
        let fits = powerLawFits
        for (label, m, fit) in fits {
            t.rows.append([label, m.rawValue, String(fit?.count ?? 0), fixed(fit?.dp100Nm, 2),
                           fixed(fit?.dp100Interval?.lowerBound, 2), fixed(fit?.dp100Interval?.upperBound, 2),
                           fixed(fit?.dTEM, 3), fixed(fit?.dTEMInterval?.lowerBound, 3),
                           fixed(fit?.dTEMInterval?.upperBound, 3), fixed(fit?.rSquared, 3)])
        }
        for m in sizingMethods {
            let usable = fits.filter { $0.method == m }.compactMap(\.fit)
            let dp = usable.map(\.dp100Nm), d = usable.map(\.dTEM)
            t.rows.append(["average", m.rawValue, String(usable.count), fixed(mean(dp), 2), "", "", fixed(mean(d), 3), "", "", ""])
            t.rows.append(["std", m.rawValue, String(usable.count), fixed(sampleStandardDeviation(dp), 2), "", "",
                           fixed(sampleStandardDeviation(d), 3), "", "", ""])
        }
        return t
    }

    /// `matches.csv`: every matched pair of the sized variants with both da and every dp.
    public var matchesTable: Table {
        var columns = ["mask", "image", "truth_id", "id", "truth_da_nm", "da_nm", "da_difference_percent"]
        for m in sizingMethods { columns += ["truth_" + m.columnName, m.columnName] }
        var t = Table(columns: columns)
        for v in variants where v.sized {
            for (i, j) in v.matching.pairs {
                let a = truth[i], b = v.aggregates[j]
                var row = [v.label, a.image, String(a.id), String(b.id), fixed(a.daNm, 2), fixed(b.daNm, 2),
                           fixed((1 - a.daNm / b.daNm) * 100, 2)]
                for m in sizingMethods { row += [fixed(a.dpNm[m], 2), fixed(b.dpNm[m], 2)] }
                t.rows.append(row)
            }
        }
        return t
    }
}


extension Evaluation {
    /// Figure 5: da densities of the truth and each sized variant.
    public var densityFigure: Chart {
        daDensityChart(sizedRows.map { ($0.label, $0.aggregates.map(\.daNm)) }, title: "Fig. 5: da kernel densities")
    }

    /// Figure 6: dp of each sized variant over the truth's dp (matched aggregates), per method.
    public var truthRatioFigure: Chart {
        let sized = variants.filter(\.sized)
        let values = sizingMethods.map { m in
            sized.map { v in
                v.matching.pairs.compactMap { pair -> Double? in
                    guard let a = truth[pair.reference].dpNm[m], let b = v.aggregates[pair.other].dpNm[m] else { return nil }
                    return b / a
                }
            }
        }
        return ratioBoxChart(title: "Fig. 6: dp relative to the truth mask's dp (matched aggregates)",
                             groups: sizingMethods.map(\.rawValue), series: sized.map(\.label), values: values,
                             yLabel: "dp / dp(truth mask)")
    }

    /// Figure 7: each method's dp over EDM-SBS's dp, per mask.
    public var edmRatioFigure: Chart? {
        guard sizingMethods.contains(.edmSBS) else { return nil }
        let others = sizingMethods.filter { $0 != .edmSBS }
        let rows = sizedRows
        let values = rows.map { row in
            others.map { m in
                row.aggregates.compactMap { a -> Double? in
                    guard let x = a.dpNm[m], let e = a.dpNm[.edmSBS] else { return nil }
                    return x / e
                }
            }
        }
        return ratioBoxChart(title: "Fig. 7: dp relative to EDM-SBS", groups: rows.map(\.label),
                             series: others.map(\.rawValue), values: values, yLabel: "dp / dp(EDM-SBS)")
    }

    /// Figure 8: dp vs da per sizing method, truth and sized variants.
    public var powerLawFigures: [(method: SizingMethod, chart: Chart)] {
        sizingMethods.map { m in
            let sets = sizedRows.map { row -> (String, [Double], [Double]) in
                let pairs = row.aggregates.compactMap { a in a.dpNm[m].map { (a.daNm, $0) } }
                return (row.label, pairs.map(\.0), pairs.map(\.1))
            }
            return (m, powerLawChart(title: "Fig. 8: dp vs da, \(m.rawValue)", sets: sets))
        }
    }
}

extension Evaluation {
    /// Figure 4's pictures of one image: the truth, then each sized variant's mask (not raw)
    /// with the truth outlined. `masks` by variant label.
    public static func samplePictures(_ item: EvaluationImage, masks: [(label: String, mask: BinaryMask)]) throws
        -> [(caption: String, png: [UInt8])]
    {
        var pictures = [(caption: "\(item.name): truth", png: try overlayThumbnail(image: item.image, mask: item.truth, truth: nil))]
        for (label, m) in masks {
            pictures.append(("\(item.name): \(label)", try overlayThumbnail(image: item.image, mask: m, truth: item.truth)))
        }
        return pictures
    }

    /// The sized, non-raw variants' masks of an image the evaluation kept, by label.
    public func sampleMasks(of name: String) -> [(label: String, mask: BinaryMask)] {
        variants.filter { $0.sized && $0.variant != .raw }.compactMap { v in v.masks[name].map { (v.label, $0) } }
    }

    /// The `compare` report for images kept in memory (their masks kept by the evaluation).
    public func report(images: [EvaluationImage], sampleImages: Int = 4, figureFiles: [String: String] = [:],
                       provenance: RunProvenance? = nil) throws -> String {
        let samples = try images.prefix(sampleImages).map { try Self.samplePictures($0, masks: sampleMasks(of: $0.name)) }
        return report(samples: samples, figureFiles: figureFiles, provenance: provenance)
    }

    /// The `compare` report: Tables 3-5 and Figures 4-8 on one page; `samples` are Figure 4's
    /// pictures, one gallery per image. Nothing in it changes between identical runs.
    public func report(samples: [[(caption: String, png: [UInt8])]], figureFiles: [String: String] = [:],
                       provenance: RunProvenance? = nil, primaryDetection: Table? = nil) -> String {
        var page = HTMLPage(title: "sootctl compare: \(self.images.count) image(s), \(Set(variants.map(\.classifier)).sorted().joined(separator: ", "))")
        page.paragraph("Ground truth: \(truth.count) aggregate(s) after border clearing. Pixel scores pool all images; "
            + "failed images are those without aggregate records; aggregates are matched to the truth's per METHODS.md 6.2 "
            + "(nearest reciprocal centre within 250 px).")
        page.heading("Segmentation (Table 3)")
        page.table(segmentationTable, headers: ["Classifier", "Variant", "FP %", "FN %", "Accuracy %", "Failed images", "IoU",
                                                "IoU incl. failed", "Aggregates", "Matched", "Added", "Removed", "Truth aggregates",
                                                "Δda,m %", "Δda,g %"], csvName: "segmentation.csv")
        let classifiers = Set(variants.map(\.classifier))
        page.table(PaperFigures.segmentationTable(for: classifiers),
                   headers: ["Paper (60 images, 158 aggregates)", "IoU excl. (incl.) failed", "Failed images", "Aggregates (added / removed)",
                             "Δda,m", "Δda,g"],
                   caption: "The paper's Table 3 for the same classifiers' recommended variants, for comparison.")
        page.heading("Masks on sample images (Figure 4)")
        page.paragraph("Each classifier's recommended variant tinted in blue with a red outline; the truth outlined in white.")
        for pictures in samples { page.gallery(pictures) }
        page.heading("Aggregate size (Figure 5)")
        page.figure(densityFigure, caption: "Gaussian kernel density of log10 da, bandwidth 0.15.", file: figureFiles["density"])
        page.heading("Primary particle size (Table 4, Figures 6-7)")
        page.table(sizingTable, headers: ["Mask", "Method", "Aggregates", "Sized", "dp,g (nm)", "σg", "dp median (nm)"],
                   csvName: "sizing.csv")
        page.table(PaperFigures.sizingTable(for: classifiers), headers: ["Paper: mask", "Hough", "EDM-SBS", "PCM", "EDM-WS"],
                   caption: "The paper's Table 4: dp,g in nm (σg), for comparison.")
        page.figure(truthRatioFigure, caption: "Boxes: 25th-75th percentile; whiskers: 1.5 IQR (log scale).", file: figureFiles["truth_ratio"])
        if let fig = edmRatioFigure { page.figure(fig, caption: "Per aggregate, same mask.", file: figureFiles["edm_ratio"]) }
        page.heading("Power law dp = dp,100 (da/100 nm)^D_TEM (Table 5, Figure 8)")
        page.table(powerLawTable, headers: ["Mask", "Method", "Aggregates", "dp,100 (nm)", "95 % low", "95 % high", "D_TEM",
                                            "95 % low", "95 % high", "R²"], csvName: "powerlaw.csv")
        for (m, chart) in powerLawFigures {
            page.figure(chart, caption: "Data ellipses: Mahalanobis radius √2 (63 % of a bivariate normal).",
                        file: figureFiles["powerlaw_" + m.rawValue])
        }
        if let primaryDetection {
            page.heading("Primary particles one by one (against --primary-truth)")
            page.paragraph("On the truth masks' aggregates. A located primary matches a true one when their discs overlap "
                + "with IoU >= 0.5 (one to one, best first); true primaries less than half visible are ignored, neither hit "
                + "nor miss. Diameter error: located / true - 1 of matched pairs. Aggregate dp error: the method's dp / the "
                + "geometric mean of the true primaries in the aggregate - 1.")
            page.table(primaryDetection, headers: ["Method", "Images", "True primaries", "Located", "TP", "FP", "FN", "Precision",
                                                   "Recall", "F1", "Median |d error|", "Aggregates", "Median |dp error|",
                                                   "Median dp error"], csvName: "primary_detection.csv")
        }
        if let provenance {
            page.heading("How this was made")
            page.table(Table(columns: ["what", "value"], rows: provenance.reportRows), csvName: "run.json")
        }
        return page.html
    }
}

