// test_matmul.cpp — gemm against gemm_reference, gemm_batched, matmul's gradients, determinism.
//
// The fast gemm is tested on the sizes where blocked kernels go wrong: 1, odd sizes, one either
// side of the vector width (16), the register tiles (12 x 32, and 8 x 48 when N is a multiple of
// 48 but not of 32), the cache blocks (KC 256, NC 768; a sum of up to 512 terms is one slice when
// its packed B fits the budget, a longer one is cut into slices of 256), leading dims wider than
// the matrix, every transpose combination, with and without accumulate; sums of at most 64
// terms, which run a whole row panel per call.
// The two benchmarks at the end are skipped by default: run them with
//   ./build/run_tests -tc='gemm: benchmark*' --no-skip
//   ./build/run_tests -tc='gemm: attention*' --no-skip
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "glulab/gemm.h"
#include "glulab/ops.h"
#include "glulab/stats.h"
#include "gradcheck.h"
#include "thread_count.h"

using namespace glulab;
using namespace glulab::testing;

namespace {

std::vector<float> random_values(size_t n, Rng& rng) {
    std::vector<float> v(n);
    for (float& x : v) x = rng.normal();
    return v;
}

// Runs gemm and gemm_reference on the same random inputs (stored with padded leading dims) and
// compares every element of C. The padding of C is filled with a marker that must survive.
// Tolerance: both kernels round each of the K products and sums, in a different order, so they
// may differ by about 2 K eps sum_k |a_ik b_kj|; a wrong or missing term is far larger.
double rounding_allowance(int K, double scale) { return 2.0 * (K + 1) * 6e-8 * scale + 1e-30; }

// The scale of that error: |op(A)| @ |op(B)|, that is sum_k |a_ik b_kj|, as an M x ldc matrix. A
// and B: a_floats and b_floats floats from a and b, leading dims lda and ldb.
std::vector<float> product_magnitude(bool ta, bool tb, int M, int N, int K, const float* a, size_t a_floats, int lda,
                                     const float* b, size_t b_floats, int ldb, int ldc) {
    std::vector<float> A_abs(a, a + a_floats), B_abs(b, b + b_floats), magnitude(static_cast<size_t>(M) * ldc);
    for (float& v : A_abs) v = std::fabs(v);
    for (float& v : B_abs) v = std::fabs(v);
    gemm_reference(ta, tb, M, N, K, A_abs.data(), lda, B_abs.data(), ldb, magnitude.data(), ldc, false);
    return magnitude;
}

void check_against_reference(bool ta, bool tb, int M, int N, int K, bool accumulate, Rng& rng, int pad = 0) {
    const int a_rows = ta ? K : M, a_cols = ta ? M : K;
    const int b_rows = tb ? N : K, b_cols = tb ? K : N;
    const int lda = a_cols + pad, ldb = b_cols + 2 * pad, ldc = N + 3 * pad;
    const std::vector<float> A = random_values(static_cast<size_t>(a_rows) * lda, rng);
    const std::vector<float> B = random_values(static_cast<size_t>(b_rows) * ldb, rng);
    std::vector<float> C = random_values(static_cast<size_t>(M) * ldc, rng);
    const float kMarker = 12345.0f;
    for (int i = 0; i < M; ++i)
        for (int j = N; j < ldc; ++j) C[static_cast<size_t>(i) * ldc + j] = kMarker;
    std::vector<float> C_ref = C;
    gemm(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, C.data(), ldc, accumulate);
    gemm_reference(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, C_ref.data(), ldc, accumulate);
    // The scale of the rounding error: sum_k |a_ik b_kj| (+ |c_ij| when accumulating).
    const std::vector<float> magnitude =
        product_magnitude(ta, tb, M, N, K, A.data(), A.size(), lda, B.data(), B.size(), ldb, ldc);

    INFO("gemm(trans_a " << ta << ", trans_b " << tb << ", M " << M << ", N " << N << ", K " << K << ", accumulate "
                         << accumulate << ", pad " << pad << ")");
    int bad = 0;
    for (int i = 0; i < M && bad < 5; ++i) {
        for (int j = 0; j < ldc && bad < 5; ++j) {
            const size_t at = static_cast<size_t>(i) * ldc + j;
            if (j >= N) {  // padding: untouched
                if (C[at] != kMarker) ++bad;
                continue;
            }
            const double scale = magnitude[at] + (accumulate ? std::fabs(C_ref[at]) : 0.0);
            const double allowed = rounding_allowance(K, scale);
            if (!(std::fabs(static_cast<double>(C[at]) - C_ref[at]) <= allowed)) {
                ++bad;
                INFO("C[" << i << "][" << j << "] = " << C[at] << ", reference " << C_ref[at]);
                CHECK(false);
            }
        }
    }
    CHECK(bad == 0);
}

}  // namespace

TEST_CASE("gemm: matches gemm_reference on awkward sizes, every transpose, accumulate on and off") {
    Rng rng(11);
    const int sizes[] = {1, 3, 7, 15, 17, 31, 33, 63, 65, 100, 129};
    int n = 0;
    for (bool ta : {false, true})
        for (bool tb : {false, true}) {
            // Every size in each role, the other two dims fixed at an awkward size.
            for (int s : sizes) {
                const bool acc = (n++ % 2) == 1;
                check_against_reference(ta, tb, s, 33, 17, acc, rng);
                check_against_reference(ta, tb, 13, s, 31, !acc, rng);
                check_against_reference(ta, tb, 14, 35, s, acc, rng);
            }
            // Degenerate shapes: vectors and scalars.
            check_against_reference(ta, tb, 1, 1, 1, false, rng);
            check_against_reference(ta, tb, 1, 65, 100, true, rng);
            check_against_reference(ta, tb, 65, 1, 100, false, rng);
            check_against_reference(ta, tb, 1, 1, 129, true, rng);
            // Leading dims wider than the matrix.
            check_against_reference(ta, tb, 17, 33, 15, false, rng, 5);
            check_against_reference(ta, tb, 31, 100, 63, true, rng, 16);
            // Exactly one register tile wide (B is then read in place when stored K x N), and one
            // tile of A rows; with K in one long slice (300), and past one (600).
            check_against_reference(ta, tb, 45, 32, 300, (n++ % 2) == 1, rng);
            check_against_reference(ta, tb, 45, 32, 600, (n++ % 2) == 1, rng);
            check_against_reference(ta, tb, 12, 32, 32, false, rng);
            check_against_reference(ta, tb, 12, 64, 16, true, rng);
            // ... with B's rows further apart than 32 (read in place all the same), and A rows of
            // at most 64 floats further apart than K (read in place when N > 32).
            check_against_reference(ta, tb, 45, 32, 600, (n++ % 2) == 1, rng, 7);
            check_against_reference(ta, tb, 64, 128, 32, (n++ % 2) == 1, rng, 160);
            check_against_reference(ta, tb, 30, 100, 64, (n++ % 2) == 1, rng, 3);
            // Sums of at most 64 terms over more than one B panel: a row panel per call, A copied
            // (gemm.cpp, short_sum_row_panel): the longest such sum and one past it, with a last
            // row panel of one row (25 = 2 x 12 + 1) and a last panel cut short (70 = 2 x 32 + 6).
            check_against_reference(ta, tb, 25, 70, 64, (n++ % 2) == 1, rng, 9);
            check_against_reference(ta, tb, 25, 70, 65, (n++ % 2) == 1, rng);
            check_against_reference(ta, tb, 37, 96, 1, (n++ % 2) == 1, rng);
            // A last panel exactly half full (16 of 32 columns with AVX-512, 8 of 16 with AVX2),
            // which is computed in place by the one-vector kernel (N = 48, the tiny preset's d,
            // takes 8 x 48 tiles instead with AVX-512: see the test of those below).
            for (int half : {16, 48, 80, 8, 24}) check_against_reference(ta, tb, 29, half, 50, (n++ % 2) == 1, rng);
            // Across the cache blocks: K in one long slice (383, 260), in two (583, 600; A read in
            // place when it is stored M x K with lda = K) and in packed slices of 256 (800), N
            // past one NC block, and a C too big to stay in L2 (M x N > 2^18), whose K slices are
            // then packed in groups.
            check_against_reference(ta, tb, 257, 191, 383, (n++ % 2) == 1, rng);
            check_against_reference(ta, tb, 257, 191, 583, (n++ % 2) == 1, rng);
            check_against_reference(ta, tb, 100, 191, 800, (n++ % 2) == 1, rng);
            check_against_reference(ta, tb, 13, 800, 600, true, rng, 3);
            if (ta == tb) check_against_reference(ta, tb, 1100, 240, 260, (n++ % 2) == 1, rng);
        }
    // Groups of 2 slices (N = 352 is 11 panels) with a third slice left over.
    check_against_reference(false, false, 745, 352, 520, true, rng);
    // Sums of more than 1,024 terms into a small C are cut into chunks summed apart (gemm.cpp,
    // kChunk): two whole chunks, and three with a short last one.
    for (bool ta : {false, true})
        for (bool tb : {false, true}) {
            check_against_reference(ta, tb, 29, 100, 2048, (n++ % 2) == 1, rng);
            check_against_reference(ta, tb, 40, 72, 2500, (n++ % 2) == 1, rng, 3);
            check_against_reference(ta, tb, 17, 40, 5000, (n++ % 2) == 1, rng);  // 4 longer chunks
            // A tall, narrow C (more than 256 rows): each chunk computes its piece of C^T, and the
            // final sum adds their transposes, 16 x 16 at a time (edges: 300 = 18 x 16 + 12).
            check_against_reference(ta, tb, 300, 40, 2048, (n++ % 2) == 1, rng);
            check_against_reference(ta, tb, 290, 72, 2500, (n++ % 2) == 1, rng, 3);
            check_against_reference(ta, tb, 520, 17, 5000, (n++ % 2) == 1, rng);
        }
}

TEST_CASE("gemm: accumulate adds onto C, and K = 0 gives zeros") {
    const std::vector<float> A = {1, 2, 3, 4}, B = {1, 0, 0, 1};  // B = identity
    std::vector<float> C = {10, 20, 30, 40};
    gemm(false, false, 2, 2, 2, A.data(), 2, B.data(), 2, C.data(), 2, true);
    CHECK(C == std::vector<float>{11, 22, 33, 44});
    gemm(false, false, 2, 2, 2, A.data(), 2, B.data(), 2, C.data(), 2, false);
    CHECK(C == std::vector<float>{1, 2, 3, 4});
    gemm(false, false, 2, 2, 0, A.data(), 2, B.data(), 2, C.data(), 2, false);
    CHECK(C == std::vector<float>{0, 0, 0, 0});
}

TEST_CASE("gemm_batched: items match single gemm calls, with a shared and a per-item B") {
    Rng rng(5);
    const int count = 7, M = 19, K = 33;
    for (bool ta : {false, true})
        for (bool tb : {false, true})
            for (bool shared : {false, true})
                for (int N : {45, 32}) {  // 32: attention's (T x hd) operands when hd = 32
                    const int lda = ta ? M : K, ldb = tb ? K : N;
                    const long sa = static_cast<long>(M) * K + 3, sc = static_cast<long>(M) * N + 1;
                    const long sb = shared ? 0 : static_cast<long>(K) * N + 5;
                    const std::vector<float> A = random_values(count * sa, rng);
                    const std::vector<float> B = random_values(shared ? K * N : count * sb, rng);
                    std::vector<float> C = random_values(count * sc, rng);
                    std::vector<float> expected = C;
                    gemm_batched(count, ta, tb, M, N, K, A.data(), lda, sa, B.data(), ldb, sb, C.data(), N, sc, true);
                    for (int i = 0; i < count; ++i)
                        gemm(ta, tb, M, N, K, A.data() + i * sa, lda, B.data() + i * sb, ldb, expected.data() + i * sc,
                             N, true);
                    INFO("trans_a " << ta << " trans_b " << tb << " shared B " << shared << " N " << N);
                    CHECK(C == expected);  // the same code per item: bit-identical
                    // and one item against the reference
                    std::vector<float> ref(static_cast<size_t>(M) * N), fast(ref.size());
                    gemm_reference(ta, tb, M, N, K, A.data() + 6 * sa, lda, B.data() + 6 * sb, ldb, ref.data(), N,
                                   false);
                    gemm(ta, tb, M, N, K, A.data() + 6 * sa, lda, B.data() + 6 * sb, ldb, fast.data(), N, false);
                    for (size_t e = 0; e < ref.size(); ++e) CHECK(fast[e] == doctest::Approx(ref[e]).epsilon(1e-4));
                }
}

TEST_CASE("gemm: bit-identical results with 1 and 2 OpenMP threads") {
    ThreadCountGuard guard;
    Rng rng(3);
    for (bool ta : {false, true})
        for (bool tb : {false, true}) {
            // C in L2 (threads keep their row panels over all slices), and C too big for it; K in
            // one long slice (383, 300) and in several (583, 600); K cut in chunks (2048: one chunk
            // per thread on 2 threads; 3000: three chunks, each split over the row panels; 5000:
            // four chunks of 1250, two per thread), also for a tall C, whose chunks compute C^T.
            for (const auto& [M, N, K] : {std::array<int, 3>{257, 191, 383}, std::array<int, 3>{1100, 240, 300},
                                          std::array<int, 3>{257, 191, 583}, std::array<int, 3>{1100, 240, 600},
                                          std::array<int, 3>{100, 96, 2048}, std::array<int, 3>{40, 200, 3000},
                                          std::array<int, 3>{24, 64, 5000}, std::array<int, 3>{300, 40, 2048},
                                          std::array<int, 3>{290, 72, 3000}}) {
                const std::vector<float> A = random_values(static_cast<size_t>(M) * K, rng);
                const std::vector<float> B = random_values(static_cast<size_t>(K) * N, rng);
                std::vector<float> C1(static_cast<size_t>(M) * N), C2(C1.size());
                const int lda = ta ? M : K, ldb = tb ? K : N;
                omp_set_num_threads(1);
                gemm(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, C1.data(), N, false);
                omp_set_num_threads(2);
                gemm(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, C2.data(), N, false);
                CHECK(std::memcmp(C1.data(), C2.data(), C1.size() * sizeof(float)) == 0);
            }

            // batched, big enough to be split: 3 items is "few" with 2 threads (each split over
            // its tiles) and "many" with 1; 8 items run one per thread with both.
            for (int count : {3, 8}) {
                const int m = count == 3 ? 100 : 64, n = count == 3 ? 130 : 64, k = count == 3 ? 90 : 64;
                const std::vector<float> Ab = random_values(static_cast<size_t>(count) * m * k, rng);
                const std::vector<float> Bb = random_values(static_cast<size_t>(count) * k * n, rng);
                std::vector<float> D1(static_cast<size_t>(count) * m * n), D2(D1.size());
                const int ldab = ta ? m : k, ldbb = tb ? k : n;
                omp_set_num_threads(1);
                gemm_batched(count, ta, tb, m, n, k, Ab.data(), ldab, m * k, Bb.data(), ldbb, k * n, D1.data(), n,
                             m * n, false);
                omp_set_num_threads(2);
                gemm_batched(count, ta, tb, m, n, k, Ab.data(), ldab, m * k, Bb.data(), ldbb, k * n, D2.data(), n,
                             m * n, false);
                CHECK(std::memcmp(D1.data(), D2.data(), D1.size() * sizeof(float)) == 0);
            }
        }
}

// The paths that read an operand in place or copy it first do the same arithmetic in the same
// order: the same product with its operands stored tightly or with wider leading dimensions (which
// moves A and B from one path to the other) gives the same bits.
TEST_CASE("gemm: the same bits whether an operand is read in place or packed") {
    Rng rng(5);
    for (bool ta : {false, true})
        for (bool tb : {false, true})
            // The last shape's sum is cut in two slices, which a tight A is read from in place.
            for (const auto& [M, N, K] : {std::array<int, 3>{64, 32, 128}, std::array<int, 3>{64, 128, 32},
                                          std::array<int, 3>{40, 32, 300}, std::array<int, 3>{29, 96, 64},
                                          std::array<int, 3>{40, 96, 600}}) {
                const int a_rows = ta ? K : M, a_cols = ta ? M : K;
                const int b_rows = tb ? N : K, b_cols = tb ? K : N;
                const std::vector<float> A = random_values(static_cast<size_t>(a_rows) * a_cols, rng);
                const std::vector<float> B = random_values(static_cast<size_t>(b_rows) * b_cols, rng);
                const int pad = 160;  // attention's heads: rows d = 192 floats apart, 32 used
                auto padded = [pad](const std::vector<float>& x, int rows, int cols) {
                    std::vector<float> out(static_cast<size_t>(rows) * (cols + pad), -7.0f);
                    for (int r = 0; r < rows; ++r)
                        std::copy(x.begin() + static_cast<long>(r) * cols, x.begin() + static_cast<long>(r + 1) * cols,
                                  out.begin() + static_cast<long>(r) * (cols + pad));
                    return out;
                };
                const std::vector<float> A_wide = padded(A, a_rows, a_cols), B_wide = padded(B, b_rows, b_cols);
                std::vector<float> C_tight(static_cast<size_t>(M) * N), C_wide(C_tight.size());
                gemm(ta, tb, M, N, K, A.data(), a_cols, B.data(), b_cols, C_tight.data(), N, false);
                gemm(ta, tb, M, N, K, A_wide.data(), a_cols + pad, B_wide.data(), b_cols + pad, C_wide.data(), N,
                     false);
                INFO("trans_a " << ta << ", trans_b " << tb << ", M " << M << ", N " << N << ", K " << K);
                CHECK(std::memcmp(C_tight.data(), C_wide.data(), C_tight.size() * sizeof(float)) == 0);
            }
}

// A sum of at most 64 terms over several panels of B runs a whole row panel of C per call
// (gemm.cpp, short_sum_row_panel), one panel at a time otherwise: each element of C is summed in
// the same order either way, so the columns have the same bits as products one panel wide.
TEST_CASE("gemm: short sums over a row panel give the same bits as one panel at a time") {
    Rng rng(9);
    for (bool tb : {false, true})
        for (const auto& [M, N, K] : {std::array<int, 3>{128, 64, 32}, std::array<int, 3>{29, 96, 64},
                                      std::array<int, 3>{13, 80, 17}, std::array<int, 3>{64, 144, 48}})
            for (bool acc : {false, true}) {
                const int panel = N % 48 == 0 && N % 32 != 0 ? 48 : 32;  // the tile's width (kNR or kWideNR)
                const std::vector<float> A = random_values(static_cast<size_t>(M) * K, rng);
                const std::vector<float> B = random_values(static_cast<size_t>(K) * N, rng);
                const int ldb = tb ? K : N;
                std::vector<float> C = random_values(static_cast<size_t>(M) * N, rng);
                std::vector<float> C_by_panel = C;
                gemm(false, tb, M, N, K, A.data(), K, B.data(), ldb, C.data(), N, acc);
                for (int j0 = 0; j0 < N; j0 += panel) {  // columns j0.. of op(B): row j0 of B when tb
                    const float* b = tb ? B.data() + static_cast<long>(j0) * K : B.data() + j0;
                    gemm(false, tb, M, std::min(panel, N - j0), K, A.data(), K, b, ldb, C_by_panel.data() + j0, N,
                         acc);
                }
                INFO("trans_b " << tb << ", M " << M << ", N " << N << ", K " << K << ", accumulate " << acc);
                CHECK(std::memcmp(C.data(), C_by_panel.data(), C.size() * sizeof(float)) == 0);
            }
}

// A 64-byte aligned float of `v` (as tensors are aligned), 1 to 16 floats in: room to check
// that nothing was written just before it.
namespace {
float* aligned_inside(std::vector<float>& v) {
    const auto address = reinterpret_cast<std::uintptr_t>(v.data());
    return v.data() + 16 - address % 64 / sizeof(float);
}
}  // namespace

// A batch whose C has 4 MB or more, aligned, with sums of at most 64 terms, is written by
// streaming stores (gemm.cpp, streams_output); each item alone is under 4 MB and stored as usual.
// Same code otherwise, so the same bits. Also: C one vector off alignment (never streamed:
// movntps would fault there), a wide-tile shape (N = 144), partial tiles, and 2 threads.
TEST_CASE("gemm_batched: a big output written by streaming stores has the same bits as item by item") {
    ThreadCountGuard guard;
    Rng rng(13);
    for (const auto& [M, N, K] : {std::array<int, 3>{128, 128, 32}, std::array<int, 3>{100, 144, 40}})
        for (bool tb : {false, true})
            for (int threads : {1, 2})
                for (int offset : {0, 4}) {  // floats from an aligned C
                    omp_set_num_threads(threads);
                    const long item = static_cast<long>(M) * N;
                    const int count = static_cast<int>((4 << 20) / (item * sizeof(float))) + 1;
                    const std::vector<float> A = random_values(static_cast<size_t>(count) * M * K, rng);
                    const std::vector<float> B = random_values(static_cast<size_t>(count) * K * N, rng);
                    std::vector<float> batched_storage(count * item + 32, -1.0f), single_storage = batched_storage;
                    float* batched = aligned_inside(batched_storage) + offset;
                    float* single = aligned_inside(single_storage) + offset;
                    const int ldb = tb ? K : N;
                    gemm_batched(count, false, tb, M, N, K, A.data(), K, static_cast<long>(M) * K, B.data(), ldb,
                                 static_cast<long>(K) * N, batched, N, item, false);
                    for (int i = 0; i < count; ++i)
                        gemm(false, tb, M, N, K, A.data() + i * M * K, K, B.data() + i * K * N, ldb, single + i * item,
                             N, false);
                    INFO("M " << M << ", N " << N << ", K " << K << ", trans_b " << tb << ", threads " << threads
                              << ", offset " << offset);
                    CHECK(std::memcmp(batched, single, count * item * sizeof(float)) == 0);
                    CHECK(batched[-1] == -1.0f);  // nothing written around the batch
                    CHECK(batched[count * item] == -1.0f);
                    std::vector<float> ref(item);
                    const int last = count - 1;
                    gemm_reference(false, tb, M, N, K, A.data() + last * M * K, K, B.data() + last * K * N, ldb,
                                   ref.data(), N, false);
                    long far_off = 0;
                    for (long e = 0; e < item; ++e)
                        if (!(batched[last * item + e] == doctest::Approx(ref[e]).epsilon(1e-4))) ++far_off;
                    CHECK(far_off == 0);
                }
}

// A product whose N is a multiple of 48 but not of 32 (the tiny preset's d = 48) takes 8 x 48
// register tiles instead of 12 x 32 ones with AVX-512 (gemm.cpp, kWideNR). Each element of C is
// still summed in the same order, so those columns have the same bits as in a product 16 columns
// wider, which takes the 12 x 32 tiles. (Without AVX-512 both use the same tiles.)
TEST_CASE("gemm: the same bits with 8 x 48 tiles as with 12 x 32 ones") {
    Rng rng(8);
    for (bool ta : {false, true})
        for (bool tb : {false, true})
            for (const auto& [M, N, K] : {std::array<int, 3>{29, 48, 300}, std::array<int, 3>{64, 144, 48},
                                          std::array<int, 3>{100, 48, 1024}})
                for (bool acc : {false, true}) {
                    const int wide = N + 16;  // a multiple of 32
                    const int a_rows = ta ? K : M, a_cols = ta ? M : K;
                    const std::vector<float> A = random_values(static_cast<size_t>(a_rows) * a_cols, rng);
                    // op(B) of the wider product, K x wide: its first N columns are op(B) of the
                    // narrower one (stored K x wide, or wide x K when tb: then its first N rows).
                    const std::vector<float> B = random_values(static_cast<size_t>(K) * wide, rng);
                    const int ldb = tb ? K : wide;
                    std::vector<float> C_wide = random_values(static_cast<size_t>(M) * wide, rng);
                    std::vector<float> C = C_wide;  // ldc = wide: the narrower product uses the first N columns
                    gemm(ta, tb, M, wide, K, A.data(), a_cols, B.data(), ldb, C_wide.data(), wide, acc);
                    gemm(ta, tb, M, N, K, A.data(), a_cols, B.data(), ldb, C.data(), wide, acc);
                    INFO("trans_a " << ta << ", trans_b " << tb << ", M " << M << ", N " << N << ", K " << K
                                    << ", accumulate " << acc);
                    int rows_differ = 0;
                    for (size_t i = 0; i < static_cast<size_t>(M); ++i)
                        rows_differ += std::memcmp(&C[i * wide], &C_wide[i * wide], sizeof(float) * N) != 0;
                    CHECK(rows_differ == 0);
                    check_against_reference(ta, tb, M, N, K, acc, rng);
                }
}

TEST_CASE("matmul: values and shapes") {
    // (2 x 3) @ (3 x 2)
    Tensor a = Tensor::from_values({2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor b = Tensor::from_values({3, 2}, {7, 8, 9, 10, 11, 12});
    Tensor y = matmul(a, b);
    CHECK(y.shape() == Shape{2, 2});
    CHECK(y.to_vector() == std::vector<float>{58, 64, 139, 154});
    // a^T b^T = (b a)^T
    Tensor yt = matmul(b, a, true, true);  // (2 x 3) @ (3 x 2) -> (2 x 2)
    CHECK(yt.to_vector() == std::vector<float>{58, 139, 64, 154});
    // a shared weight over leading dims, and a batched product
    CHECK(matmul(Tensor::zeros({2, 5, 4, 3}), Tensor::zeros({3, 7})).shape() == Shape{2, 5, 4, 7});
    CHECK(matmul(Tensor::zeros({2, 5, 3, 4}), Tensor::zeros({3, 7}), true).shape() == Shape{2, 5, 4, 7});
    CHECK(matmul(Tensor::zeros({2, 3, 4, 8}), Tensor::zeros({2, 3, 6, 8}), false, true).shape() ==
          Shape{2, 3, 4, 6});
}

TEST_CASE("matmul: bad shapes throw with both shapes in the message") {
    CHECK_THROWS_AS(matmul(Tensor::zeros({2, 3}), Tensor::zeros({4, 5})), std::invalid_argument);
    CHECK_THROWS_AS(matmul(Tensor::zeros({3}), Tensor::zeros({3, 5})), std::invalid_argument);
    CHECK_THROWS_AS(matmul(Tensor::zeros({2, 3, 4}), Tensor::zeros({3, 4, 5})), std::invalid_argument);
    CHECK_THROWS_AS(matmul(Tensor::zeros({2, 4, 3}), Tensor::zeros({2, 2, 4, 5})), std::invalid_argument);
    CHECK_THROWS_AS(matmul(Tensor::zeros({2, 3}), Tensor::zeros({5, 4}), false, true), std::invalid_argument);
    try {
        matmul(Tensor::zeros({2, 3}), Tensor::zeros({4, 5}));
        CHECK(false);
    } catch (const std::invalid_argument& e) {
        const std::string msg = e.what();
        CHECK(msg.find("matmul: ") == 0);
        CHECK(msg.find("(2, 3)") != std::string::npos);
        CHECK(msg.find("(4, 5)") != std::string::npos);
    }
}

TEST_CASE("gradcheck: matmul, 2-D, shared weight, batched, every transpose") {
    Rng rng(21);
    for (bool ta : {false, true})
        for (bool tb : {false, true}) {
            auto f = [ta, tb](const std::vector<Tensor>& in) { return matmul(in[0], in[1], ta, tb); };
            auto a_shape = [ta](Shape lead, int M, int K) {
                lead.push_back(ta ? K : M);
                lead.push_back(ta ? M : K);
                return lead;
            };
            auto b_shape = [tb](Shape lead, int K, int N) {
                lead.push_back(tb ? N : K);
                lead.push_back(tb ? K : N);
                return lead;
            };
            INFO("trans_a " << ta << " trans_b " << tb);
            // 2-D, awkward sizes (1 and odd)
            check_gradients(f, {random_tensor(a_shape({}, 5, 3), rng), random_tensor(b_shape({}, 3, 7), rng)});
            check_gradients(f, {random_tensor(a_shape({}, 1, 4), rng), random_tensor(b_shape({}, 4, 1), rng)});
            // 3-D input with a shared 2-D weight (folded into rows, or a batch of a^T products)
            check_gradients(f, {random_tensor(a_shape({2}, 3, 5), rng), random_tensor(b_shape({}, 5, 4), rng)});
            // 4-D batched, attention-like
            check_gradients(f, {random_tensor(a_shape({2, 3}, 4, 3), rng), random_tensor(b_shape({2, 3}, 3, 5), rng)});
            // only one input needs a gradient
            check_gradients(f, {random_tensor(a_shape({2}, 3, 4), rng, 1.0f, false),
                                random_tensor(b_shape({}, 4, 6), rng)});
            check_gradients(f, {random_tensor(a_shape({2, 2}, 3, 4), rng),
                                random_tensor(b_shape({2, 2}, 4, 2), rng, 1.0f, false)});
        }
}

TEST_CASE("matmul: backward accumulates, and is bit-identical with 1 and 2 threads") {
    ThreadCountGuard guard;
    auto run = [](int threads) {
        omp_set_num_threads(threads);
        Rng rng(9);
        // Big enough that gemm splits the work (it runs small products on one thread).
        Tensor x = random_tensor({4, 64, 96}, rng);    // (B, T, d)
        Tensor W = random_tensor({96, 160}, rng);      // (d, F)
        Tensor q = random_tensor({2, 4, 64, 32}, rng); // (B, H, T, hd)
        Tensor k = random_tensor({2, 4, 64, 32}, rng);
        Tensor y = matmul(x, W);                        // (B, T, F)
        Tensor s = matmul(q, k, false, true);           // (B, H, T, T)
        Tensor loss = add(sum(mul(y, y)), sum(mul(s, s)));
        loss.backward();
        std::vector<float> all = y.to_vector();
        for (const Tensor& t : {x, W, q, k})
            for (float v : t.grad_vector()) all.push_back(v);
        return all;
    };
    const std::vector<float> one = run(1), two = run(2);
    REQUIRE(one.size() == two.size());
    CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);

    // x used twice: y = x W + x W has dx = 2 dY W^T
    Rng rng(4);
    Tensor x = random_tensor({4, 6}, rng), W = random_tensor({6, 5}, rng);
    Tensor y1 = matmul(x, W);
    sum(y1).backward();
    const std::vector<float> once = x.grad_vector();
    x.zero_grad();
    sum(add(matmul(x, W), matmul(x, W))).backward();
    for (size_t i = 0; i < once.size(); ++i) CHECK(x.grad_vector()[i] == doctest::Approx(2.0f * once[i]));
}

// ---- benchmarks (skipped in the suite) ----
// This machine may be shared: other programs slow some seconds down, and a spell of them used to
// fall on the few rows timed meanwhile (each row's runs came one after the other), so that one or
// two rows of every run read 10-25% low, and which ones changed from run to run. So the products
// are timed in rounds instead: each round times every product once, on 1 and on 2 threads, and
// measures the FMA peak, and each row reports the median of its rounds. A slow spell then costs
// every row a round or two, which the median skips, instead of costing one row all of its runs.
// Percentages are of the highest peak measured during the benchmark on as many threads: other
// load can only slow a measurement down. A spell longer than half the run still shows in every
// row; the header line then says so: the peak's measurements range down to about half (the
// second core taken away), and their median is low. (/proc/stat's steal time, which glulab bench
// prints, read 0.0% on this project's Firecracker VM even then.) Measured with a busy loop taking
// one of the two cores for 2 s in the middle of each run, three runs each way alternated: 2, 3
// and 11 of the 36 rows under 80% of the peak with the runs of each row back to back, against
// 0, 0 and 1 in rounds (experiments/results/speed/rounds-127e4c2.md).
namespace {
Tensor random_tensor(int n, Rng& rng) { return Tensor::from_values({n}, random_values(n, rng)); }

constexpr int kThreadCounts[] = {1, 2};
constexpr size_t kSettings = std::size(kThreadCounts);

// One batched product to time: count items of C (M x N) = op(A) op(B). The operands are tensors,
// as the matmul op's are: from the tensor allocator, so a big one is on huge pages and 64-byte
// aligned (which lets a big batched C be streamed, see gemm.cpp). They are allocated once and
// kept for the whole benchmark.
struct TimedProduct {
    std::string label;
    int count;
    bool ta, tb;
    int M, N, K;
    Tensor A, B, C;
    std::vector<double> rates[kSettings];  // GFLOP/s of each round, on each of kThreadCounts' threads

    TimedProduct(std::string label_, int count_, bool ta_, bool tb_, int M_, int N_, int K_, Rng& rng)
        : label(std::move(label_)), count(count_), ta(ta_), tb(tb_), M(M_), N(N_), K(K_),
          A(random_tensor(count * M * K, rng)), B(random_tensor(count * K * N, rng)),
          C(Tensor::zeros({count * M * N})) {}

    double flops() const { return 2.0 * count * M * N * K; }

    void run() {
        gemm_batched(count, ta, tb, M, N, K, A.data(), ta ? M : K, static_cast<long>(M) * K, B.data(), tb ? K : N,
                     static_cast<long>(K) * N, C.data(), N, static_cast<long>(M) * N, false);
    }

    // GFLOP/s of one timed run (about 1 ms of work: the product `inner` times), after three
    // untimed ones that bring the operands back into cache, as far as they fit, after the round's
    // other products. One was not enough for attention's 96-item products, whose 6 to 9 MB come
    // back from the shared L3: three pairs of runs, one and three alternated, read them at 63-82%
    // of the peak on 1 thread with one and 75-89% with three; the other rows changed little.
    double time_once() {
        const int inner = std::max(1, static_cast<int>(2e8 / flops()));
        for (int warm_up = 0; warm_up < 3; ++warm_up) run();
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < inner; ++i) run();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return flops() * inner / s * 1e-9;
    }

    // The timed product is the right one: its last item against gemm_reference.
    void check() const {
        const long last_a = (count - 1L) * M * K, last_b = (count - 1L) * K * N, last_c = (count - 1L) * M * N;
        const int lda = ta ? M : K, ldb = tb ? K : N;
        std::vector<float> C_ref(static_cast<size_t>(M) * N);
        gemm_reference(ta, tb, M, N, K, A.data() + last_a, lda, B.data() + last_b, ldb, C_ref.data(), N, false);
        const std::vector<float> magnitude = product_magnitude(ta, tb, M, N, K, A.data() + last_a,
                                                               static_cast<size_t>(M) * K, lda, B.data() + last_b,
                                                               static_cast<size_t>(K) * N, ldb, N);
        int bad = 0;
        for (size_t at = 0; at < C_ref.size(); ++at) {
            const double error = std::fabs(static_cast<double>(C.data()[last_c + at]) - C_ref[at]);
            if (!(error <= rounding_allowance(K, magnitude[at]))) ++bad;
        }
        CHECK_MESSAGE(bad == 0, label);
    }
};

// The FMA peaks measured during a benchmark, per thread count.
struct Peaks {
    std::vector<double> gflops[kSettings];
};

// `rounds` rounds: each measures the FMA peak and times every product once on 1 thread, then the
// same on 2 (kThreadCounts). Then checks each product's result.
Peaks time_in_rounds(std::vector<TimedProduct>& products, int rounds) {
    Peaks peaks;
    for (int round = 0; round < rounds; ++round)
        for (size_t t = 0; t < kSettings; ++t) {
            peaks.gflops[t].push_back(measure_fma_peak_gflops(kThreadCounts[t]));
            omp_set_num_threads(kThreadCounts[t]);
            for (TimedProduct& p : products) p.rates[t].push_back(p.time_once());
        }
    for (const TimedProduct& p : products) p.check();
    return peaks;
}

// Per thread count, a line per product: "label  median  % of peak  (quartiles %)  best  %". The
// percentages are of the highest peak measured on as many threads.
void print_rounds(const std::vector<TimedProduct>& products, const Peaks& peaks) {
    for (size_t t = 0; t < kSettings; ++t) {
        const std::vector<double>& probes = peaks.gflops[t];  // one per round
        const int rounds = static_cast<int>(probes.size());
        const double peak = *std::max_element(probes.begin(), probes.end());
        std::printf("threads %d: GFLOP/s, median of %d rounds, %% of the highest FMA peak measured on %d "
                    "(%.0f; its %d measurements %.0f to %.0f, median %.0f), quartiles, best\n",
                    kThreadCounts[t], rounds, kThreadCounts[t], peak, rounds,
                    *std::min_element(probes.begin(), probes.end()), peak, stats::median(probes));
        for (const TimedProduct& p : products) {
            const std::vector<double>& r = p.rates[t];
            const double best = *std::max_element(r.begin(), r.end()), middle = stats::median(r);
            std::printf("  %-44s %6.1f %5.1f%%   (%5.1f-%5.1f%%)   best %6.1f %5.1f%%\n", p.label.c_str(), middle,
                        100.0 * middle / peak, 100.0 * stats::quantile(r, 0.25) / peak,
                        100.0 * stats::quantile(r, 0.75) / peak, best, 100.0 * best / peak);
        }
    }
}

// Times the products in 21 rounds, checks them and prints the table.
void benchmark_in_rounds(std::vector<TimedProduct>& products) { print_rounds(products, time_in_rounds(products, 21)); }
}  // namespace

TEST_CASE("gemm: benchmark on the small preset's training shapes" * doctest::skip()) {
    ThreadCountGuard guard;
    struct Case {
        const char* what;
        int count;
        bool ta, tb;
        int M, N, K;
    };
    // The small preset: B*T = 2048 rows, d = 192, d_ff 768 (or 512 for the gated variants), the
    // attention projection 192 x 192 and a 192 x 256 output layer; H = 6 heads of hd = 32, T = 128.
    // Each weight W (d_in x d_out) appears in three products: x W, dY W^T and X^T dY.
    const Case cases[] = {
        {"x W     2048x192 @ 192x768", 1, false, false, 2048, 768, 192},
        {"x W     2048x192 @ 192x192", 1, false, false, 2048, 192, 192},
        {"x W     2048x768 @ 768x192", 1, false, false, 2048, 192, 768},
        {"x W     2048x512 @ 512x192", 1, false, false, 2048, 192, 512},
        {"x W     2048x192 @ 192x256", 1, false, false, 2048, 256, 192},
        {"dY W^T  2048x768 @ (192x768)^T", 1, false, true, 2048, 192, 768},
        {"dY W^T  2048x192 @ (192x192)^T", 1, false, true, 2048, 192, 192},
        {"dY W^T  2048x192 @ (768x192)^T", 1, false, true, 2048, 768, 192},
        {"dY W^T  2048x192 @ (512x192)^T", 1, false, true, 2048, 512, 192},
        {"dY W^T  2048x256 @ (192x256)^T", 1, false, true, 2048, 192, 256},
        {"X^T dY  (2048x192)^T @ 2048x768", 1, true, false, 192, 768, 2048},
        {"X^T dY  (2048x192)^T @ 2048x192", 1, true, false, 192, 192, 2048},
        {"X^T dY  (2048x768)^T @ 2048x192", 1, true, false, 768, 192, 2048},
        {"X^T dY  (2048x512)^T @ 2048x192", 1, true, false, 512, 192, 2048},
        {"X^T dY  (2048x192)^T @ 2048x256", 1, true, false, 192, 256, 2048},
        {"attn q k^T, dO v^T   96 x 128x32 @ (128x32)^T", 96, false, true, 128, 128, 32},
        {"attn p v, dS k       96 x 128x128 @ 128x32", 96, false, false, 128, 32, 128},
        {"attn p^T dO, dS^T q  96 x (128x128)^T @ 128x32", 96, true, false, 128, 32, 128},
    };
    Rng rng(1);
    std::vector<TimedProduct> products;
    products.reserve(std::size(cases));
    for (const Case& c : cases) products.emplace_back(c.what, c.count, c.ta, c.tb, c.M, c.N, c.K, rng);
    std::printf("kernel: %s\n", gemm_kernel_name());
    benchmark_in_rounds(products);
}

// Why attention's q k^T reads lower in the benchmark above than the other products: how much of
// that is memory? Each item reads q and k (16 KB each) and writes a 128 x 128 C (64 KB, which an
// ordinary store first reads for ownership, then writes back; a batch with 4 MB of C or more is
// streamed instead, gemm.cpp): about 160 KB of memory traffic per MFLOP when
// its operands are not in cache, the most in the benchmark (P v: 112 KB, mostly reads; x W with
// d_ff = 768: 23 KB). The same product over few items, whose operands stay in cache from one run
// to the next, against more, which do not (on a 2-core Zen 4 VM the change came between 4.5 and
// 9 MB, or 9 and 18 MB, from hour to hour: experiments/results/speed/qk-items-2404d9e.md and
// bandwidth-9071f87.md), and 768 items (72 MB), which never do; make bandwidth says what memory
// would allow them.
//   ./build/run_tests -tc='gemm: attention*' --no-skip
TEST_CASE("gemm: attention's q k^T by the number of items (skipped: a benchmark)" * doctest::skip()) {
    ThreadCountGuard guard;
    constexpr int T = 128, hd = 32;
    constexpr double kMegabytesPerItem = (2.0 * T * hd + T * T) * sizeof(float) / (1 << 20);
    Rng rng(1);
    std::vector<TimedProduct> products;
    const int counts[] = {6, 12, 24, 48, 96, 192, 768};
    products.reserve(std::size(counts));
    for (int count : counts) {
        char label[64];
        std::snprintf(label, sizeof label, "%3d items  %5.2f MB", count, count * kMegabytesPerItem);
        products.emplace_back(label, count, false, true, T, T, hd, rng);
    }
    std::printf("attn q k^T, count x 128x32 @ (128x32)^T\n");
    benchmark_in_rounds(products);
}
