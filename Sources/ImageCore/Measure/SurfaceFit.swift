import Foundation
internal import CLAPACKE

/// A second-order polynomial surface S(row, column) = p00 + p10 x + p01 y + p20 x^2 + p11 x y + p02 y^2
/// with x = column and y = row (METHODS.md section 3.1), fitted in centred, scaled coordinates
/// for conditioning (the fit itself is invariant to that).
public struct QuadraticSurface: Sendable, Equatable {
    /// Coefficients of 1, u, v, u^2, u v, v^2 in the scaled coordinates u = (x - cx)/s, v = (y - cy)/s.
    public let scaledCoefficients: [Double]
    let centerColumn: Double, centerRow: Double, scale: Double

    /// The surface at (row, column).
    public func value(row: Double, column: Double) -> Double {
        let u = (column - centerColumn) / scale, v = (row - centerRow) / scale
        let p = scaledCoefficients
        return p[0] + p[1] * u + p[2] * v + p[3] * u * u + p[4] * u * v + p[5] * v * v
    }

    /// The surface sampled on a `width x height` grid, row-major.
    public func sampled(width: Int, height: Int) -> [Double] {
        var out = [Double](repeating: 0, count: width * height)
        for r in 0..<height {
            for c in 0..<width { out[r * width + c] = value(row: Double(r), column: Double(c)) }
        }
        return out
    }

    /// Least-squares fit to `values` (row-major, `width x height`), over the pixels of `mask`
    /// when given, through LAPACK's SVD-based least-squares solver (`dgelsd`) on the normal
    /// equations of the scaled monomials.
    /// - Throws: `ImageCoreError.numericalFailure` when LAPACK fails or fewer than 6 pixels are used.
    public static func fit(_ values: [Float], width: Int, height: Int, mask: BinaryMask? = nil) throws -> QuadraticSurface {
        precondition(values.count == width * height, "values must have width x height entries")
        let cx = Double(width - 1) / 2, cy = Double(height - 1) / 2
        let s = max(Double(max(width, height)) / 2, 1)
        // Normal equations A^T A p = A^T b accumulated row by row.
        var gram = [Double](repeating: 0, count: 36)
        var rhs = [Double](repeating: 0, count: 6)
        var used = 0
        var m = [Double](repeating: 0, count: 6)
        for r in 0..<height {
            let v = (Double(r) - cy) / s
            for c in 0..<width {
                let i = r * width + c
                if let mask, mask.bits[i] == 0 { continue }
                let u = (Double(c) - cx) / s
                m[0] = 1; m[1] = u; m[2] = v; m[3] = u * u; m[4] = u * v; m[5] = v * v
                let b = Double(values[i])
                for a in 0..<6 {
                    rhs[a] += m[a] * b
                    for k in a..<6 { gram[a * 6 + k] += m[a] * m[k] }
                }
                used += 1
            }
        }
        guard used >= 6 else {
            throw ImageCoreError.numericalFailure("surface fit needs at least 6 pixels, got \(used)")
        }
        for a in 0..<6 { for k in 0..<a { gram[a * 6 + k] = gram[k * 6 + a] } }
        var singular = [Double](repeating: 0, count: 6)
        var rank: Int32 = 0
        let info = LAPACKE_dgelsd(LAPACK_ROW_MAJOR, 6, 6, 1, &gram, 6, &rhs, 1, &singular, 1e-12, &rank)
        guard info == 0 else {
            throw ImageCoreError.numericalFailure("LAPACKE_dgelsd returned \(info)")
        }
        return QuadraticSurface(scaledCoefficients: rhs, centerColumn: cx, centerRow: cy, scale: s)
    }
}
