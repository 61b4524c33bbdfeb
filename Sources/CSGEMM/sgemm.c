// NeuralNet's AVX-512 SGEMM. Blocking after BLIS (Van Zee & van de Geijn, "BLIS: A framework
// for rapidly instantiating BLAS functionality", ACM TOMS 2015): for each NC-wide block of
// columns and KC-deep slice, op(B) is packed into NR-wide panels (kept in L3, one panel in L1);
// for each MC-tall block of rows, op(A) is packed into MR-tall panels (kept in L2); the micro
// kernel multiplies one MR x KC panel by one KC x NR panel into a 12 x 32 tile of C held in 24
// zmm registers (two vectors of 16 columns per row, A's entries broadcast).
#include "CSGEMM.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <pthread.h>

enum { MR = 12, NR = 32, KC = 256, MC = 288, NC = 3072 };

bool csgemm_available(void) {
    static _Atomic int cached = -1;
    int value = cached;
    if (value < 0) {
        __builtin_cpu_init();
        // compiler-rt and libgcc check that the OS saves zmm state (XCR0) as well.
        value = __builtin_cpu_supports("avx512f") ? 1 : 0;
        cached = value;
    }
    return value == 1;
}

// Per-thread packing buffers, freed by the key's destructor when the thread ends.
static pthread_key_t buffer_key;
static pthread_once_t buffer_once = PTHREAD_ONCE_INIT;
static void make_buffer_key(void) { pthread_key_create(&buffer_key, free); }

static float *thread_buffers(void) {
    pthread_once(&buffer_once, make_buffer_key);
    float *buffers = pthread_getspecific(buffer_key);
    if (!buffers) {
        buffers = aligned_alloc(64, sizeof(float) * ((size_t)MC * KC + (size_t)KC * NC));
        if (!buffers) abort();
        pthread_setspecific(buffer_key, buffers);
    }
    return buffers;
}

static inline long min_long(long x, long y) { return x < y ? x : y; }

// Loads up to 16 rows of 16 consecutive floats (row i at src + i * ld; rows >= rows_valid and
// columns >= cols_valid read as zero) and transposes them: out[c] holds column c of the block,
// its lane i row i. Lanes are interleaved in two unpack rounds, then 128-bit quarters moved
// in two shuffle rounds.
__attribute__((target("avx512f")))
static inline void load_transposed16(const float *src, long ld, int rows_valid, int cols_valid, __m512 out[16]) {
    __mmask16 mask = (__mmask16)((1u << cols_valid) - 1u);
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++)
        r[i] = i < rows_valid ? _mm512_maskz_loadu_ps(mask, src + i * ld) : _mm512_setzero_ps();
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // u[g][q]: rows 4g ..< 4g+4 of column 4L+q in quarter L.
    __m512 u[4][4];
    for (int g = 0; g < 4; g++) {
        __m512d t0 = _mm512_castps_pd(t[4 * g]), t1 = _mm512_castps_pd(t[4 * g + 1]);
        __m512d t2 = _mm512_castps_pd(t[4 * g + 2]), t3 = _mm512_castps_pd(t[4 * g + 3]);
        u[g][0] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
        u[g][1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
        u[g][2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
        u[g][3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
    for (int q = 0; q < 4; q++) {
        __m512 v0 = _mm512_shuffle_f32x4(u[0][q], u[1][q], 0x44), v1 = _mm512_shuffle_f32x4(u[0][q], u[1][q], 0xEE);
        __m512 v2 = _mm512_shuffle_f32x4(u[2][q], u[3][q], 0x44), v3 = _mm512_shuffle_f32x4(u[2][q], u[3][q], 0xEE);
        out[q] = _mm512_shuffle_f32x4(v0, v2, 0x88);
        out[4 + q] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
        out[8 + q] = _mm512_shuffle_f32x4(v1, v3, 0x88);
        out[12 + q] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
    }
}

// op(A)[i0 ..< i0+mc, p0 ..< p0+kc] times alpha, as mr-tall panels (mr 8 or 12): panel-major,
// then p, then the mr rows (zero beyond mc).
__attribute__((target("avx512f")))
static void pack_a(bool trans, const float *a, long lda, long i0, long mc, long p0, long kc,
                   float alpha, int mr, float *dst) {
    __m512 scale = _mm512_set1_ps(alpha);
    __mmask16 panel_mask = (__mmask16)((1u << mr) - 1u);
    for (long ir = 0; ir < mc; ir += mr) {
        int rows = (int)min_long(mr, mc - ir);
        __mmask16 row_mask = (__mmask16)((1u << rows) - 1u);
        if (trans) {
            // Row p of the stored A holds the panel's rows side by side.
            for (long p = 0; p < kc; p++) {
                __m512 v = _mm512_maskz_loadu_ps(row_mask, a + (p0 + p) * lda + i0 + ir);
                _mm512_mask_storeu_ps(dst + p * mr, panel_mask, _mm512_mul_ps(scale, v));
            }
        } else {
            const float *src = a + (i0 + ir) * lda + p0;
            __m512 columns[16];
            for (long p = 0; p < kc; p += 16) {
                int cols = (int)min_long(16, kc - p);
                load_transposed16(src + p, lda, rows, cols, columns);
                for (int q = 0; q < cols; q++)
                    _mm512_mask_storeu_ps(dst + (p + q) * mr, panel_mask, _mm512_mul_ps(scale, columns[q]));
            }
        }
        dst += mr * kc;
    }
}

// op(B)[p0 ..< p0+kc, j0 ..< j0+nc] as NR-wide panels: panel-major, then p, then the NR
// columns (zero beyond nc).
__attribute__((target("avx512f")))
static void pack_b(bool trans, const float *b, long ldb, long p0, long kc, long j0, long nc, float *dst) {
    for (long jr = 0; jr < nc; jr += NR) {
        long cols = min_long(NR, nc - jr);
        if (trans) {
            // Row j of the stored B holds column j of op(B): transpose 16 x 16 blocks.
            __m512 columns[16];
            for (int half = 0; half < 2; half++) {
                int width = (int)(cols - 16 * half);
                if (width <= 0) {
                    for (long p = 0; p < kc; p++) _mm512_store_ps(dst + p * NR + 16 * half, _mm512_setzero_ps());
                    continue;
                }
                if (width > 16) width = 16;
                const float *src = b + (j0 + jr + 16 * half) * ldb + p0;
                for (long p = 0; p < kc; p += 16) {
                    int depth = (int)min_long(16, kc - p);
                    load_transposed16(src + p, ldb, width, depth, columns);
                    for (int q = 0; q < depth; q++) _mm512_store_ps(dst + (p + q) * NR + 16 * half, columns[q]);
                }
            }
        } else {
            __mmask16 low = (__mmask16)(cols >= 16 ? 0xFFFFu : (1u << cols) - 1u);
            __mmask16 high = (__mmask16)(cols >= 32 ? 0xFFFFu : cols <= 16 ? 0u : (1u << (cols - 16)) - 1u);
            for (long p = 0; p < kc; p++) {
                const float *src = b + (p0 + p) * ldb + j0 + jr;
                _mm512_store_ps(dst + p * NR, _mm512_maskz_loadu_ps(low, src));
                _mm512_store_ps(dst + p * NR + 16, _mm512_maskz_loadu_ps(high, src + 16));
            }
        }
        dst += NR * kc;
    }
}

#define ROWS12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define ROWS8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

// C[0 ..< MRV, 0 ..< 32] = A-panel x B-panel + beta C (beta == 0: C is not read), for a panel
// of MRV rows: 2 x MRV accumulators, B's two vectors loaded and A's entries broadcast per step.
#define DEFINE_KERNEL(NAME, MRV, ROWS) \
__attribute__((target("avx512f"))) \
static void NAME(long kc, const float *restrict pa, const float *restrict pb, float *restrict c, long ldc, float beta) { \
    ROWS(DECLARE) \
    ROWS(PREFETCH) \
    long p = 0; \
    for (; p + 2 <= kc; p += 2) { \
        __m512 bl = _mm512_load_ps(pb), bh = _mm512_load_ps(pb + 16); \
        ROWS(STEP) \
        pa += MRV; pb += NR; \
        bl = _mm512_load_ps(pb); bh = _mm512_load_ps(pb + 16); \
        ROWS(STEP) \
        pa += MRV; pb += NR; \
    } \
    for (; p < kc; p++) { \
        __m512 bl = _mm512_load_ps(pb), bh = _mm512_load_ps(pb + 16); \
        ROWS(STEP) \
        pa += MRV; pb += NR; \
    } \
    if (beta == 0) { ROWS(STORE) } \
    else if (beta == 1) { ROWS(ADD) } \
    else { __m512 bv = _mm512_set1_ps(beta); ROWS(SCALE) } \
}

#define DECLARE(r) __m512 c##r##l = _mm512_setzero_ps(), c##r##h = _mm512_setzero_ps();
#define PREFETCH(r) _mm_prefetch((const char *)(c + (r) * ldc), _MM_HINT_T0); \
                    _mm_prefetch((const char *)(c + (r) * ldc + 31), _MM_HINT_T0);
#define STEP(r) { __m512 av = _mm512_set1_ps(pa[r]); \
                  c##r##l = _mm512_fmadd_ps(av, bl, c##r##l); c##r##h = _mm512_fmadd_ps(av, bh, c##r##h); }
#define STORE(r) _mm512_storeu_ps(c + (r) * ldc, c##r##l); _mm512_storeu_ps(c + (r) * ldc + 16, c##r##h);
#define ADD(r) _mm512_storeu_ps(c + (r) * ldc, _mm512_add_ps(c##r##l, _mm512_loadu_ps(c + (r) * ldc))); \
               _mm512_storeu_ps(c + (r) * ldc + 16, _mm512_add_ps(c##r##h, _mm512_loadu_ps(c + (r) * ldc + 16)));
#define SCALE(r) _mm512_storeu_ps(c + (r) * ldc, _mm512_fmadd_ps(bv, _mm512_loadu_ps(c + (r) * ldc), c##r##l)); \
                 _mm512_storeu_ps(c + (r) * ldc + 16, _mm512_fmadd_ps(bv, _mm512_loadu_ps(c + (r) * ldc + 16), c##r##h));

DEFINE_KERNEL(kernel_12x32, 12, ROWS12)
DEFINE_KERNEL(kernel_8x32, 8, ROWS8)

// Panel height for m rows: 12 (fewer loads per FMA) unless 8 pads m less, by more than the
// 12-row kernel's measured edge (about 7 %).
static int panel_rows(long m) {
    long padded12 = (m + 11) / 12 * 12, padded8 = (m + 7) / 8 * 8;
    return (double)padded8 * 1.07 < (double)padded12 ? 8 : 12;
}

// C = beta C on an m x n block (beta == 0 writes zeros without reading).
static void scale_c(long m, long n, float beta, float *c, long ldc) {
    for (long i = 0; i < m; i++) {
        float *row = c + i * ldc;
        if (beta == 0) memset(row, 0, sizeof(float) * (size_t)n);
        else if (beta != 1) for (long j = 0; j < n; j++) row[j] *= beta;
    }
}

__attribute__((target("avx512f")))
void csgemm(bool trans_a, bool trans_b, long m, long n, long k, float alpha,
            const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0) { scale_c(m, n, beta, c, ldc); return; }
    float *packed_a = thread_buffers();
    float *packed_b = packed_a + (size_t)MC * KC;
    float edge[MR * NR] __attribute__((aligned(64)));
    int mr = panel_rows(m);
    void (*kernel)(long, const float *, const float *, float *, long, float) = mr == 12 ? kernel_12x32 : kernel_8x32;
    for (long jc = 0; jc < n; jc += NC) {
        long nc = min_long(NC, n - jc);
        for (long pc = 0; pc < k; pc += KC) {
            long kc = min_long(KC, k - pc);
            float slice_beta = pc == 0 ? beta : 1;
            pack_b(trans_b, b, ldb, pc, kc, jc, nc, packed_b);
            for (long ic = 0; ic < m; ic += MC) {
                long mc = min_long(MC, m - ic);
                pack_a(trans_a, a, lda, ic, mc, pc, kc, alpha, mr, packed_a);
                for (long jr = 0; jr < nc; jr += NR) {
                    long cols = min_long(NR, nc - jr);
                    const float *panel_b = packed_b + jr * kc;
                    for (long ir = 0; ir < mc; ir += mr) {
                        long rows = min_long(mr, mc - ir);
                        const float *panel_a = packed_a + ir * kc;
                        float *tile = c + (ic + ir) * ldc + jc + jr;
                        if (rows == mr && cols == NR) {
                            kernel(kc, panel_a, panel_b, tile, ldc, slice_beta);
                            continue;
                        }
                        kernel(kc, panel_a, panel_b, edge, NR, 0);
                        for (long r = 0; r < rows; r++) {
                            float *row = tile + r * ldc;
                            const float *sum = edge + r * NR;
                            if (slice_beta == 0) for (long j = 0; j < cols; j++) row[j] = sum[j];
                            else if (slice_beta == 1) for (long j = 0; j < cols; j++) row[j] += sum[j];
                            else for (long j = 0; j < cols; j++) row[j] = slice_beta * row[j] + sum[j];
                        }
                    }
                }
            }
        }
    }
}

#else

bool csgemm_available(void) { return false; }

void csgemm(bool trans_a, bool trans_b, long m, long n, long k, float alpha,
            const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc) {
    (void)trans_a; (void)trans_b; (void)m; (void)n; (void)k; (void)alpha;
    (void)a; (void)lda; (void)b; (void)ldb; (void)beta; (void)c; (void)ldc;
    abort(); // Callers check csgemm_available() first.
}

#endif
