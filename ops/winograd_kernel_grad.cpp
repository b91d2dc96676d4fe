// ops/winograd_kernel_grad.cpp — the Winograd kernel gradient (ops/winograd.h
// winograd_conv3x3_backward_kernel): dU_e = V_e^T (A dy A^T)_e summed over tiles, then G^T dU G.
#include <algorithm>

#include "core/threads.h"
#include "ops/blas.h"
#include "ops/conv2d_workspace.h"
#include "ops/winograd.h"
#include "ops/winograd_small_products.h"
#include "ops/winograd_transforms.h"

namespace minidl::ops {

namespace winograd {
namespace {

// The kernel gradient is summed in chunks of blocks, each with its own
// partial dU that costs a clear and an add: two chunks (two threads' worth)
// up to 2 * kTilesPerChunk tiles, then one more per kTilesPerChunk, at most
// kMaxReduceChunks, and fewer when the partials would pass kMaxPartialBytes.
constexpr int64_t kTilesPerChunk = int64_t{1} << 12;
constexpr int64_t kMaxReduceChunks = 8;
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
  const int64_t block = block_tiles(E, C, OC, grid.tiles);
  // The tiles' blocks (starting at multiples of `block`) form R chunks fixed
  // by the layer and batch alone; each chunk sums its own dU and bias
  // gradient, and the chunks are added in chunk order, so the result does not
  // depend on the thread count.
  const int64_t blocks = (grid.tiles + block - 1) / block;
  const int64_t du_count = groups * E * CG * OCG;
  const int64_t by_tiles = std::clamp<int64_t>(grid.tiles / kTilesPerChunk, 2, kMaxReduceChunks);
  const int64_t by_memory = kMaxPartialBytes / std::max<int64_t>(1, du_count * int64_t{sizeof(float)});
  const int64_t R = std::clamp<int64_t>(std::min({blocks, by_tiles, by_memory}), 1, kMaxReduceChunks);
  const int64_t T = parallel_slots(R);

  // Per thread: V [block, E, C] (transformed x), W [block, E, OC]
  // (transformed dy) and a masked copy of one tile's dy [M*M, OC] (only with
  // relu_y). Per chunk: its dU [G, E, CG, OCG]. Shared: a row of zeros for
  // cells outside the image or the output.
  const int64_t v_floats = lines(block * E * C), w_floats = lines(block * E * OC);
  const int64_t mask_floats = relu_y ? lines(M * M * OC) : 0, du_floats = lines(du_count);
  const int64_t per_thread = v_floats + w_floats + mask_floats;
  const int64_t zero_floats = lines(std::max(C, OC));
  float* zeros = ws.floats(zero_floats + per_thread * T + du_floats * R);
  std::fill_n(zeros, zero_floats, 0.f);
  float* scratch = zeros + zero_floats;
  float* dU_parts = scratch + per_thread * T;  // [R][G, E, CG, OCG]
  // The bias gradient rides along: each dy row is summed (in double) as it is read.
  double* bias_sums = dbias ? ws.doubles(OC * R) : nullptr;  // [R, OC]

  parallel_chunks(R, T, [&](int64_t th, int64_t chunk) {
    float* V = scratch + per_thread * th;
    float* W = V + v_floats;
    float* masked = W + w_floats;
    float* dU = dU_parts + du_floats * chunk;
    std::fill_n(dU, du_count, 0.f);
    double* bsum = bias_sums ? bias_sums + OC * chunk : nullptr;
    if (bsum) std::fill_n(bsum, OC, 0.0);
    for (int64_t bi = blocks * chunk / R; bi < blocks * (chunk + 1) / R; ++bi) {
      const int64_t b0 = bi * block, nb = std::min(block, grid.tiles - b0);
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
  });

  if (dbias) sum_chunk_bias(bias_sums, R, OC, dbias);
  add_chunk_partials(dU_parts + du_floats, R - 1, du_floats, du_count, dU_parts);
  kernel_from_transformed<M>(dU_parts, groups, CG, OCG, OC, dkernel);
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
