import Foundation
import ImageCore
import Aggregates
import Statistics
import Testing
import TestSupport

func disc(_ mask: inout BinaryMask, row: Double, column: Double, radius: Double) {
    for r in 0..<mask.height {
        for c in 0..<mask.width
        where (Double(r) - row) * (Double(r) - row) + (Double(c) - column) * (Double(c) - column) <= radius * radius {
            mask.bits[r * mask.width + c] = 1
        }
    }
}

@Suite("Aggregates from masks")
struct AggregateTests {
    @Test("a disc: area, da, Rg, perimeter and extents", arguments: [10.0, 25.0, 60.0])
    func discProperties(radius: Double) throws {
        let ps = 0.4
        var mask = BinaryMask(width: 200, height: 160)
        disc(&mask, row: 80.3, column: 95.6, radius: radius)
        let analysis = extractAggregates(mask: mask, pixelSizeNm: ps)
        #expect(analysis.failure == nil)
        let a = try #require(analysis.aggregates.first)
        #expect(analysis.aggregates.count == 1)
        #expect(a.areaPx == mask.trueCount)
        #expect(abs(a.areaNm2 - Double(a.areaPx) * ps * ps) < 1e-9)
        // da from the pixel count, within 2 % of the continuous disc.
        #expect(abs(a.daNm - 2 * radius * ps) / (2 * radius * ps) < 0.02)
        // Rg of a filled disc = R / sqrt 2.
        #expect(abs(a.rgNm / (radius * ps / 2.squareRoot()) - 1) < 0.03)
        // Perimeter within 5 % of 2 pi R (midpoint polygon of the outer ring, at about R + 1/2).
        #expect(abs(a.perimeterNm / (2 * Double.pi * radius * ps) - 1) < 0.06, "perimeter \(a.perimeterNm)")
        #expect(abs(a.aspectRatio - 1) < 0.05)
        #expect(abs(a.centroidXPx - 95.6) < 0.1 && abs(a.centroidYPx - 80.3) < 0.1)
        #expect(abs(a.lengthNm - 2 * radius * ps) <= 2 * ps)
    }

    @Test("a straight chain of discs: length, width, aspect ratio and Rg of a rod")
    func chain() throws {
        var mask = BinaryMask(width: 400, height: 120)
        for k in 0..<8 { disc(&mask, row: 60, column: 50 + Double(k) * 40, radius: 20) }
        let a = try #require(extractAggregates(mask: mask, pixelSizeNm: 1).aggregates.first)
        #expect(abs(a.lengthNm - 320) <= 1)
        #expect(abs(a.widthNm - 40) <= 1)
        #expect(abs(a.aspectRatio - 8) < 0.3)
        // Rg of points spread over a 320-long rod of 40 width: sqrt(L^2/12 + W^2/16) roughly.
        let rod = (320.0 * 320.0 / 12 + 40.0 * 40.0 / 16).squareRoot()
        #expect(abs(a.rgNm / rod - 1) < 0.05)
    }

    @Test("ids follow column-major order of the first pixel; small blobs and border aggregates go")
    func idsAndCleaning() throws {
        var mask = BinaryMask(width: 300, height: 200)
        disc(&mask, row: 150, column: 60, radius: 15)   // first by column
        disc(&mask, row: 50, column: 200, radius: 20)
        disc(&mask, row: 100, column: 120, radius: 1)   // 5 px: dropped (< 10)
        disc(&mask, row: 0, column: 150, radius: 12)    // touches the border
        let analysis = extractAggregates(mask: mask, pixelSizeNm: 1)
        #expect(analysis.aggregates.count == 2)
        #expect(analysis.aggregates[0].centroidXPx < 100)
        #expect(analysis.aggregates.map(\.id) == [1, 2])
        #expect(analysis.aggregates.allSatisfy { !$0.touchesBorder })
        var keep = AggregateOptions()
        keep.removeBorderAggregates = false
        let kept = extractAggregates(mask: mask, pixelSizeNm: 1, options: keep)
        #expect(kept.aggregates.count == 3)
        #expect(kept.aggregates.filter(\.touchesBorder).count == 1)
    }

    @Test("failed segmentations: soot along the border, speckle, nothing")
    func failures() {
        var border = BinaryMask(width: 100, height: 100)
        for r in 0..<100 { for c in 0..<40 { border.bits[r * 100 + c] = 1 } }
        #expect(extractAggregates(mask: border, pixelSizeNm: 1).failure == .borderCoverage)
        #expect(detectSegmentationFailure(border) == .borderCoverage)
        var speckle = BinaryMask(width: 200, height: 200)
        for k in 0..<60 { disc(&speckle, row: Double(20 + (k / 10) * 30), column: Double(20 + (k % 10) * 18), radius: 3) }
        #expect(extractAggregates(mask: speckle, pixelSizeNm: 1).failure == .tooManyAggregates)
        #expect(extractAggregates(mask: BinaryMask(width: 50, height: 50), pixelSizeNm: 1).failure == .noAggregates)
        var options = AggregateOptions()
        options.detectFailures = false
        #expect(extractAggregates(mask: speckle, pixelSizeNm: 1, options: options).aggregates.count == 60)
    }

    @Test("edge rule: with soot along an edge, only aggregates within (max distance - 100) px of the farthest point stay")
    func edgeRule() throws {
        var mask = BinaryMask(width: 600, height: 400)
        for r in 0..<400 { for c in 0..<20 { mask.bits[r * 600 + c] = 1 } }   // soot along the left edge
        disc(&mask, row: 200, column: 450, radius: 30)   // far from it: stays
        disc(&mask, row: 200, column: 80, radius: 20)    // near it: removed by the rule
        var noRule = AggregateOptions()
        noRule.edgeRescue = false
        #expect(extractAggregates(mask: mask, pixelSizeNm: 1, options: noRule).aggregates.count == 2)
        let ruled = extractAggregates(mask: mask, pixelSizeNm: 1)
        #expect(ruled.aggregates.count == 1)
        #expect(abs((ruled.aggregates.first?.centroidXPx ?? 0) - 450) < 1)
    }

    @Test("cropped masks hold the aggregate alone with a margin")
    func cropped() throws {
        var mask = BinaryMask(width: 120, height: 100)
        disc(&mask, row: 50, column: 40, radius: 10)
        disc(&mask, row: 50, column: 64, radius: 10)  // separate (gap of 4 px)
        let analysis = extractAggregates(mask: mask, pixelSizeNm: 1)
        #expect(analysis.aggregates.count == 2)
        let (crop, row, column) = analysis.croppedMask(of: analysis.aggregates[0])
        #expect(crop.trueCount == analysis.aggregates[0].areaPx)
        #expect(row == 37 && column == 27)
        #expect(crop.width == 27 && crop.height == 27)
    }
}
