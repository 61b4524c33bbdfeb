// Winograd F(4 x 4, 3 x 3) input and output transforms of one tile row, compiled for AVX2 and
// FMA and chosen at run time (NeuralNet's Swift transforms are built for baseline x86-64, whose
// SIMD8 is two SSE halves without FMA). Same layouts and results, up to rounding, as
// `Winograd.f4TransformInput` and `Winograd.f4TransformOutput` in NeuralNet.
#ifndef CWINOGRAD_H
#define CWINOGRAD_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/// True when this CPU runs the AVX2 + FMA transforms (x86-64, checked once).
bool cwinograd_avx2_available(void);

/// Input transform of tile row `ti` of one channel plane (h x w, row-major): for each tile j
/// of the row (tw of them), the 36 values (Bᵀ d B)[ξ] go to out[ξ * stride + j].
/// `phases` is scratch of 24 * span floats, span >= ((tw + 1 + 7) / 8) * 8 + 8, zero on first use.
/// Needs w >= 4 (F(4 x 4) runs on planes of at least 8 x 8, `Winograd.f4MinimumSide`).
void cwinograd_f4_input_row(const float *plane, long h, long w, long ti, long tw,
                            float *out, long stride, float *phases, long span);

/// Output transform of tile row `ti`: for each tile j, Aᵀ M A of m[ξ * stride + j] into the
/// 4 x 4 block of `plane` (h x w), plus `bias`, plus what the plane holds when `accumulate`,
/// then max(., 0) when `relu`.
void cwinograd_f4_output_row(const float *m, long stride, long h, long w, long ti, long tw,
                             float *plane, float bias, bool relu, bool accumulate);

#ifdef __cplusplus
}
#endif

#endif
