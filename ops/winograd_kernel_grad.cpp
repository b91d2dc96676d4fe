// ops/winograd_kernel_grad.cpp — the Winograd kernel gradient (ops/winograd.h
// winograd_conv3x3_backward_kernel): dU_e = V_e^T (A dy A^T)_e summed over tiles, then G^T dU G.
#include <algorithm>

#include "core/threads.h"
#include "ops/batch_sum.h"
#include "ops/blas.h"
#include "ops/conv2d_workspace.h"
#include "ops/winograd.h"
#include "ops/winograd_small_products.h"
#include "ops/winograd_transforms.h"

namespace minidl::ops {

namespace winograd {
namespace {

// The kernel gradient is summed in chunks of whole images, each with its own
// partial dU that costs a clear and an add: a power of two images holding
// about kTilesPerChunk tiles, chosen from the tiles per image alone, doubled
// while the partials would pass kMaxPartialBytes. The chunks' partials are
// added pairwise (ops/batch_sum.h), so the result depends neither on the
// thread count nor on how data-parallel replicas split the batch.
constexpr int64_t kTilesPerChunk = int64_t{1} << 9;
constexpr int64_t kMaxPartialBytes = int64_t{64} << 20;

// dkernel [3, 3, CG, OC] = G^T dU G for dU [G, E, CG, OCG] (U = G w G^T is
// linear in w), rows then columns, in double.
template <int M>
void kernel_from_transformed(const float* dU, int64_t groups, int64_t CG, int64_t OCG, int64_t OC, float* dkernel) {
  constexpr int A = F<M>::A, E = A * A;
  for (int64_t gi = 0; gi < groups; ++gi)
    for (int64_t c = 0; c < CG; ++c)
      for (int64_t o = 0; o < OCG; ++o) {
        const float* u = dU + gi * E * CG * OCG + c * OCG + o;
        double rows[A][3];  // dU G
        for (int r = 0; r < A; ++r) {
          double in[A];
          for (int col = 0; col < A; ++col) in[col] = u[(r * A + col) * CG * OCG];
          F<M>::kernel_adjoint(in, rows[r]);
        }
        for (int kw = 0; kw < 3; ++kw) {
          double in[A], taps[3];
          for (int r = 0; r < A; ++r) in[r] = rows[r][kw];
          F<M>::kernel_adjoint(in, taps);
          for (int kh = 0; kh < 3; ++kh)
            dkernel[((kh * 3 + kw) * CG + c) * OC + gi * OCG + o] = static_cast<float>(taps[kh]);
        }
      }
}

template <int M>
void backward_kernel(const float* x, const float* dy, const Conv2DGeometry& g, int64_t groups, int64_t OC,
                     float* dkernel, float* dbias, Conv2DWorkspace& ws, const float* relu_y) {
  constexpr int A = F<M>::A, E = A * A;
  constexpr auto lines = &Conv2DWorkspace::lines;
  const int64_t CG = g.C / groups, OCG = OC / groups;
  const Tiling grid(M, g.N, g.OH, g.OW, g.DH, g.DW);
  const int64_t C = g.C;
  // Chunk c holds images [c * per, (c + 1) * per); its tiles run in blocks of
  // `block` from the chunk's first tile, a size fixed by the chunk's size.
  const int64_t du_count = groups * E * CG * OCG;
  const int64_t per_image = grid.TY * grid.TX;
  const int64_t dk_bytes = std::max<int64_t>(1, 9 * CG * OC * int64_t{sizeof(float)});
  const int64_t per = fit_partials(samples_per_group(per_image, kTilesPerChunk), g.N, dk_bytes, kMaxPartialBytes);
  const int64_t R = std::max<int64_t>(1, group_count(g.N, per));
  const int64_t block = block_tiles(E, C, OC, per * per_image);
  const int64_t T = parallel_slots(R);

  // Per thread: V [block, E, C] (transformed x), W [block, E, OC]
  // (transformed dy) and a masked copy of one tile's dy [M*M, OC] (only with
  // relu_y). Per thread also the dU [G, E, CG, OCG] of the chunk it sums. Shared: a row of zeros for
  // cells outside the image or the output.
  const int64_t v_floats = lines(block * E * C), w_floats = lines(block * E * OC);
  const int64_t mask_floats = relu_y ? lines(M * M * OC) : 0, du_floats = lines(du_count);
  const int64_t per_thread = v_floats + w_floats + mask_floats;
  const int64_t zero_floats = lines(std::max(C, OC));
  // Each chunk's dU becomes its partial dkernel (G^T dU G) before the chunks
  // are added, so that a replica's summed dkernel is one subtree of the sum:
  // dkernel for chunk 0, dk_parts for the others.
  const int64_t dk_count = 9 * CG * OC, dk_floats = lines(dk_count);
  float* zeros = ws.floats(zero_floats + per_thread * T + du_floats * T + dk_floats * (R - 1));
  std::fill_n(zeros, zero_floats, 0.f);
  float* scratch = zeros + zero_floats;
  float* dU_slots = scratch + per_thread * T;  // [T][G, E, CG, OCG]
  float* dk_parts = dU_slots + du_floats * T;  // [R - 1][3, 3, CG, OC]
  // The bias gradient rides along: each dy row is summed (in double) as it is read.
  double* bias_sums = dbias ? ws.doubles(OC * R) : nullptr;  // [R, OC]

  parallel_chunks(R, T, [&](int64_t th, int64_t chunk) {
    float* V = scratch + per_thread * th;
    float* W = V + v_floats;
    float* masked = W + w_floats;
    float* dU = dU_slots + du_floats * th;
    std::fill_n(dU, du_count, 0.f);
    double* bsum = bias_sums ? bias_sums + OC * chunk : nullptr;
    if (bsum) std::fill_n(bsum, OC, 0.0);
    const int64_t t1 = std::min(g.N, per * (chunk + 1)) * per_image;
    for (int64_t b0 = std::min(g.N, per * chunk) * per_image; b0 < t1; b0 += block) {
      const int64_t nb = std::min(block, t1 - b0);
      for (int64_t j = 0; j < nb; ++j) {
        int64_t n, oy, ox;
        grid.locate(b0 + j, n, oy, ox);
        const int64_t image = g.H * g.W * C, out_image = g.OH * g.OW * OC;
        const float* p[E];
        cell_pointers(x + n * image, nullptr, g.H, g.W, C, A, oy - g.pad_top, ox - g.pad_left, g.DH, g.DW, zeros,
                      nullptr, p);
        input_transform<M>(p, C, V + j * E * C);  // [E, C]
        // dy of the tile's M x M outputs; zeros past the output's edge.
        const float* q[M * M];
        cell_pointers(dy + n * out_image, relu_y ? relu_y + n * out_image : nullptr, g.OH, g.OW, OC, M, oy, ox,
                      g.DH, g.DW, zeros, masked, q);
        if (bsum)  // cells outside the output are zeros and add nothing
          for (int i = 0; i < M * M; ++i)
            for (int64_t f = 0; f < OC; ++f) bsum[f] += q[i][f];
        dy_transform<M>(q, OC, W + j * E * OC);  // [E, OC]
      }
      // dU_e [CG, OCG] += V_e^T [CG, nb] * W_e [nb, OCG]: the gradient of
      // M_e = V_e U_e, on each group's column blocks.
      const bool small = small_group(CG, OCG);
      for (int64_t gi = 0; gi < groups; ++gi)
        for (int e = 0; e < E; ++e) {
          const float* Ve = V + e * C + gi * CG;
          const float* We = W + e * OC + gi * OCG;
          float* dUe = dU + (gi * E + e) * CG * OCG;
          if (small)
            small_product_tn(nb, CG, OCG, Ve, E * C, We, E * OC, dUe);
          else
            gemm(true, false, CG, OCG, nb, 1.f, Ve, E * C, We, E * OC, 1.f, dUe, OCG);
        }
    }
    kernel_from_transformed<M>(dU, groups, CG, OCG, OC, chunk == 0 ? dkernel : dk_parts + dk_floats * (chunk - 1));
  });

  if (dbias) sum_chunk_bias(bias_sums, R, OC, dbias);
  add_chunk_partials(dk_parts, R - 1, dk_floats, dk_count, dkernel);
}

}  // namespace
}  // namespace winograd

void winograd_conv3x3_backward_kernel(const float* x, const float* dy, const Conv2DGeometry& g, int64_t groups,
                                      int64_t OC, float* dkernel, float* dbias, Conv2DWorkspace& ws,
                                      const float* relu_y) {
  winograd::require_applicable("winograd_conv3x3_backward_kernel", g, groups, OC);
  winograd::backward_kernel<winograd::kTile>(x, dy, g, groups, OC, dkernel, dbias, ws, relu_y);
}

}  // namespace minidl::ops
