// NeuralNet's own single-precision GEMM for CPUs with AVX-512F (row-major, BLIS-style blocking,
// a 12 x 32 register tile). OpenBLAS 0.3.21 picks its AVX2 kernels when OPENBLAS_CORETYPE pins
// it (these machines set Haswell) or when it does not know the CPU; this kernel does not depend
// on either. NeuralNet calls it only where `csgemm_available()` says the CPU runs it, and
// OpenBLAS everywhere else.
#ifndef CSGEMM_H
#define CSGEMM_H

#include <stdbool.h>

#include "CWinograd.h"  // the F(4 x 4) Winograd transforms for AVX2 + FMA

#ifdef __cplusplus
extern "C" {
#endif

/// True when this CPU and build run the AVX-512 kernel (x86-64 with AVX-512F, checked once).
bool csgemm_available(void);

/// C = alpha op(A) op(B) + beta C, row-major, on the calling thread. op(A) is m x k (A stored
/// k x m when trans_a), op(B) is k x n (B stored n x k when trans_b). beta == 0 never reads C.
/// Must only be called when csgemm_available() is true. Packing buffers are per thread and
/// hold 288 x 256 + 256 x 3072 floats (3.4 MB), freed when the thread ends.
void csgemm(bool trans_a, bool trans_b, long m, long n, long k, float alpha,
            const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc);

#ifdef __cplusplus
}
#endif

#endif
