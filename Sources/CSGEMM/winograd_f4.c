// Winograd F(4 x 4, 3 x 3) transforms of one tile row with AVX2 and FMA (see CWinograd.h).
// Bᵀ, G and Aᵀ are those of NeuralNet's WinogradF4.swift (interpolation points 0, ±1, ±2, ∞).
#include "CWinograd.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

typedef float v8 __attribute__((vector_size(32), aligned(4)));

bool cwinograd_avx2_available(void) {
    static _Atomic int cached = -1;
    int value = cached;
    if (value < 0) {
        __builtin_cpu_init();
        value = (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 1 : 0;
        cached = value;
    }
    return value == 1;
}

#define AVX2 __attribute__((target("avx2,fma"), always_inline)) static inline

AVX2 v8 load8(const float *p) { v8 v; memcpy(&v, p, sizeof v); return v; }
AVX2 void store8(float *p, v8 v) { memcpy(p, &v, sizeof v); }

AVX2 v8 load_lanes(const float *p, long lanes) {
    if (lanes >= 8) return load8(p);
    float t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (long l = 0; l < lanes; l++) t[l] = p[l];
    return load8(t);
}

AVX2 void store_lanes(float *p, v8 v, long lanes) {
    if (lanes >= 8) { store8(p, v); return; }
    float t[8];
    store8(t, v);
    for (long l = 0; l < lanes; l++) p[l] = t[l];
}

// Bᵀ d for six values.
AVX2 void f4b(const v8 d[6], v8 e[6]) {
    e[0] = 4 * d[0] - 5 * d[2] + d[4];
    e[1] = d[3] + d[4] - 4 * (d[1] + d[2]);
    e[2] = d[4] - d[3] + 4 * (d[1] - d[2]);
    e[3] = d[4] - d[2] + 2 * (d[3] - d[1]);
    e[4] = d[4] - d[2] - 2 * (d[3] - d[1]);
    e[5] = 4 * d[1] - 5 * d[3] + d[5];
}

// Aᵀ m for six values.
AVX2 void f4at(const v8 m[6], v8 e[4]) {
    e[0] = m[0] + m[1] + m[2] + m[3] + m[4];
    e[1] = m[1] - m[2] + 2 * (m[3] - m[4]);
    e[2] = m[1] + m[2] + 4 * (m[3] + m[4]);
    e[3] = m[1] - m[2] + 8 * (m[3] - m[4]) + m[5];
}

__attribute__((target("avx2,fma")))
void cwinograd_f4_input_row(const float *plane, long h, long w, long ti, long tw,
                            float *out, long stride, float *phases, long span) {
    // Each of the six padded input rows split into its four column phases: padded column
    // 4j + p is input column 4j + p - 1, so a tile's six columns are phases 0-3 at j and
    // phases 0-1 at j + 1.
    for (long k = 0; k < 6; k++) {
        long r = 4 * ti - 1 + k;
        for (long p = 0; p < 4; p++) {
            float *dst = phases + (k * 4 + p) * span;
            if (r < 0 || r >= h) { memset(dst, 0, (size_t)(tw + 1) * sizeof(float)); continue; }
            const float *row = plane + r * w;
            dst[0] = p == 0 ? 0 : row[p - 1];
            long valid = (w - p + 4) / 4;  // j with 4j + p - 1 < w
            if (valid > tw + 1) valid = tw + 1;
            const float *src = row + p - 1;
            for (long j = 1; j < valid; j++) dst[j] = src[4 * j];
            long from = valid > 1 ? valid : 1;
            if (from < tw + 1) memset(dst + from, 0, (size_t)(tw + 1 - from) * sizeof(float));
        }
    }
    for (long jb = 0; jb < tw; jb += 8) {
        long lanes = tw - jb < 8 ? tw - jb : 8;
        v8 c[6][6];  // c[i][r]: row r of Bᵀ d at column i
        for (long i = 0; i < 6; i++) {
            // Column i of the patch: phase i at j (i < 4), phase i - 4 at j + 1 (i >= 4).
            long phase = i < 4 ? i : i - 4, shift = i < 4 ? 0 : 1;
            v8 d[6];
            for (long k = 0; k < 6; k++) d[k] = load8(phases + (k * 4 + phase) * span + jb + shift);
            f4b(d, c[i]);
        }
        float *o = out + jb;
        for (long r = 0; r < 6; r++) {
            v8 row[6] = {c[0][r], c[1][r], c[2][r], c[3][r], c[4][r], c[5][r]}, e[6];
            f4b(row, e);
            for (long s = 0; s < 6; s++) store_lanes(o + (r * 6 + s) * stride, e[s], lanes);
        }
    }
}

__attribute__((target("avx2,fma")))
void cwinograd_f4_output_row(const float *m, long stride, long h, long w, long ti, long tw,
                             float *plane, float bias, bool relu, bool accumulate) {
    const v8 add = {bias, bias, bias, bias, bias, bias, bias, bias};
    const v8 zero = {0, 0, 0, 0, 0, 0, 0, 0};
    for (long jb = 0; jb < tw; jb += 8) {
        long lanes = tw - jb < 8 ? tw - jb : 8;
        const float *base = m + jb;
        v8 s[6][4];  // s[i][r]: row r of Aᵀ M at column i
        for (long i = 0; i < 6; i++) {
            v8 col[6];
            for (long k = 0; k < 6; k++) col[k] = load_lanes(base + (k * 6 + i) * stride, lanes);
            f4at(col, s[i]);
        }
        int whole = lanes == 8 && 4 * (jb + 8) <= w;
        for (long r = 0; r < 4; r++) {
            long rowIndex = 4 * ti + r;
            if (rowIndex >= h) break;
            v8 row[6] = {s[0][r], s[1][r], s[2][r], s[3][r], s[4][r], s[5][r]}, q[4];
            f4at(row, q);
            float *dst = plane + rowIndex * w;
            if (whole) {
                // The four column vectors interleaved into 32 consecutive outputs.
                v8 ablo = __builtin_shufflevector(q[0], q[1], 0, 8, 1, 9, 4, 12, 5, 13);
                v8 abhi = __builtin_shufflevector(q[0], q[1], 2, 10, 3, 11, 6, 14, 7, 15);
                v8 cdlo = __builtin_shufflevector(q[2], q[3], 0, 8, 1, 9, 4, 12, 5, 13);
                v8 cdhi = __builtin_shufflevector(q[2], q[3], 2, 10, 3, 11, 6, 14, 7, 15);
                v8 t0 = __builtin_shufflevector(ablo, cdlo, 0, 1, 8, 9, 4, 5, 12, 13);   // tiles 0 | 4
                v8 t1 = __builtin_shufflevector(ablo, cdlo, 2, 3, 10, 11, 6, 7, 14, 15); // tiles 1 | 5
                v8 t2 = __builtin_shufflevector(abhi, cdhi, 0, 1, 8, 9, 4, 5, 12, 13);   // tiles 2 | 6
                v8 t3 = __builtin_shufflevector(abhi, cdhi, 2, 3, 10, 11, 6, 7, 14, 15); // tiles 3 | 7
                v8 v[4] = {
                    __builtin_shufflevector(t0, t1, 0, 1, 2, 3, 8, 9, 10, 11),
                    __builtin_shufflevector(t2, t3, 0, 1, 2, 3, 8, 9, 10, 11),
                    __builtin_shufflevector(t0, t1, 4, 5, 6, 7, 12, 13, 14, 15),
                    __builtin_shufflevector(t2, t3, 4, 5, 6, 7, 12, 13, 14, 15),
                };
                float *start = dst + 4 * jb;
                for (int i = 0; i < 4; i++) {
                    v8 x = v[i] + add;
                    if (accumulate) x += load8(start + 8 * i);
                    if (relu) x = (v8)_mm256_max_ps(zero, (__m256)x);  // NaN stays NaN, as in the Swift path
                    store8(start + 8 * i, x);
                }
                continue;
            }
            float a[4][8];
            for (int k = 0; k < 4; k++) store8(a[k], q[k]);
            for (long l = 0; l < lanes; l++) {
                long col = 4 * (jb + l);
                for (int k = 0; k < 4; k++) {
                    if (col + k >= w) break;
                    float value = a[k][l] + bias;
                    if (accumulate) value += dst[col + k];
                    dst[col + k] = relu ? (value > 0 ? value : 0) : value;
                }
            }
        }
    }
}

#else

bool cwinograd_avx2_available(void) { return false; }

void cwinograd_f4_input_row(const float *plane, long h, long w, long ti, long tw,
                            float *out, long stride, float *phases, long span) {
    (void)plane; (void)h; (void)w; (void)ti; (void)tw; (void)out; (void)stride; (void)phases; (void)span;
    __builtin_trap();  // never called: cwinograd_avx2_available() is false
}

void cwinograd_f4_output_row(const float *m, long stride, long h, long w, long ti, long tw,
                             float *plane, float bias, bool relu, bool accumulate) {
    (void)m; (void)stride; (void)h; (void)w; (void)ti; (void)tw; (void)plane; (void)bias; (void)relu; (void)accumulate;
    __builtin_trap();
}

#endif
