// ops/winograd.cpp — the Winograd forward pass and input gradient (ops/winograd.h): one
// tile loop, run on x for the forward and on dy with the flipped kernel for the input gradient.
#include "ops/winograd.h"

#include <algorithm>

#include "core/errors.h"
#include "core/threads.h"
#include "ops/blas.h"
#include "ops/conv2d_workspace.h"
#include "ops/winograd_small_products.h"
#include "ops/winograd_transforms.h"

namespace minidl::ops {

bool winograd_applicable(const Conv2DGeometry& g, int64_t groups, int64_t OC) {
  if (g.KH != 3 || g.KW != 3 || g.SH != 1 || g.SW != 1 || groups < 1) return false;
  if (g.C % groups != 0 || OC % groups != 0) return false;
  return g.C / groups >= kWinogradMinChannels && OC / groups >= kWinogradMinChannels;
}

namespace winograd {

void require_applicable(const char* fn, const Conv2DGeometry& g, int64_t groups, int64_t OC) {
  MINIDL_CHECK(winograd_applicable(g, groups, OC), ValueError,
               "{}: needs a 3x3 kernel, stride 1 and at least {} channels and filters per group; received kernel "
               "({}, {}), strides ({}, {}), {} channels, {} filters, {} groups",
               fn, kWinogradMinChannels, g.KH, g.KW, g.SH, g.SW, g.C, OC, groups);
}

namespace {

// One stride-1 3x3 convolution in the form the tile loop takes. The
// forward pass maps x to y; the input gradient maps dy to dx with the
// transformed kernel of the flipped, channel-transposed kernel.
struct WinoConv {
  const float* in;          // [N, IH, IW, IC]
  const float* mask;        // null, or [N, IH, IW, IC]: in is taken as 0 where mask <= 0
  int64_t N, IH, IW, IC;
  int64_t OH, OW, OCT;      // output [N, OH, OW, OCT]
  int64_t DH, DW;           // dilation
  int64_t pad_top, pad_left;  // output (oy, ox) reads input (oy - pad_top + DH*kh, ox - pad_left + DW*kw)
  int64_t G, CG, OCG;       // groups; input and output channels per group
  const float* bias;        // null or [OCT]
  bool relu;
  float* out;
};

// Runs the convolution w with F(M, 3); fill_U(U) writes the transformed
// kernel [G, E, CG, OCG], unless the workspace still holds it for `key`
// (Conv2DWorkspace::kernel_transform; a key of version 0 is never held).
// The transforms run once per tile over all channels; only the products are
// per group, on the group's column blocks.
template <int M, class FillU>
void run(const WinoConv& w, Conv2DWorkspace& ws, const Conv2DWorkspace::KernelKey& key, FillU fill_U) {
  constexpr int A = F<M>::A, E = A * A;
  constexpr auto lines = &Conv2DWorkspace::lines;
  const Tiling grid(M, w.N, w.OH, w.OW, w.DH, w.DW);
  const int64_t tiles = grid.tiles;
  if (tiles == 0) return;
  const int64_t IC = w.IC, OC = w.OCT;
  const int64_t block = block_tiles(E, IC, OC, tiles);
  // Blocks start at multiples of `block` whatever the thread count, so every
  // product call and its results are the same with any number of threads.
  const int64_t blocks = (tiles + block - 1) / block;
  const int64_t T = parallel_slots(blocks);

  // Per thread: V [block, E, IC], M [block, E, OC], a masked copy of one
  // tile's input [E, IC] (only with a mask), and a scratch output row for
  // tile cells outside the image. Shared: a row of zeros for padding cells.
  const int64_t v_floats = lines(block * E * IC), m_floats = lines(block * E * OC);
  const int64_t mask_floats = w.mask ? lines(E * IC) : 0, sink_floats = lines(OC);
  const int64_t per_thread = v_floats + m_floats + mask_floats + sink_floats;
  const int64_t u_floats = lines(w.G * E * w.CG * w.OCG);
  const float* U = nullptr;
  float* zeros = nullptr;
  if (key.version != 0) {  // kept across calls while the kernel is unchanged
    bool valid = false;
    float* kept = ws.kernel_transform(key, u_floats, valid);
    if (!valid) {
      fill_U(kept);
      ws.mark_kernel_transform(key);
    }
    U = kept;
    zeros = ws.floats(lines(IC) + per_thread * T);
  } else {
    float* fresh = ws.floats(u_floats + lines(IC) + per_thread * T);
    fill_U(fresh);
    U = fresh;
    zeros = fresh + u_floats;
  }
  std::fill_n(zeros, IC, 0.f);
  float* scratch = zeros + lines(IC);

  parallel_chunks(blocks, T, [&](int64_t th, int64_t bi) {
    float* V = scratch + per_thread * th;
    float* Mb = V + v_floats;
    float* masked = Mb + m_floats;
    float* sink = masked + mask_floats;
    const int64_t b0 = bi * block, nb = std::min(block, tiles - b0);
    for (int64_t j = 0; j < nb; ++j) {  // gather and transform each tile's input block
      int64_t n, oy, ox;
      grid.locate(b0 + j, n, oy, ox);
      const int64_t image = w.IH * w.IW * IC;
      const float* p[E];
      cell_pointers(w.in + n * image, w.mask ? w.mask + n * image : nullptr, w.IH, w.IW, IC, A, oy - w.pad_top,
                    ox - w.pad_left, w.DH, w.DW, zeros, masked, p);
      input_transform<M>(p, IC, V + j * E * IC);  // [E, IC]
    }
    // M_e [nb, OCG] = V_e [nb, CG] * U_e [CG, OCG] for the E positions e
    // and each group's column blocks.
    const bool small = small_group(w.CG, w.OCG);
    for (int64_t gi = 0; gi < w.G; ++gi) {
      const float* Ug = U + gi * E * w.CG * w.OCG;
      for (int e = 0; e < E; ++e) {
        const float* Ve = V + e * IC + gi * w.CG;
        const float* Ue = Ug + e * w.CG * w.OCG;
        float* Me = Mb + e * OC + gi * w.OCG;
        if (small)
          small_product(nb, w.CG, w.OCG, Ve, E * IC, Ue, Me, E * OC);
        else
          gemm(false, false, nb, w.OCG, w.CG, 1.f, Ve, E * IC, Ue, w.OCG, 0.f, Me, E * OC);
      }
    }
    for (int64_t j = 0; j < nb; ++j) {  // back to M x M output blocks
      int64_t n, oy, ox;
      grid.locate(b0 + j, n, oy, ox);
      float* y[M * M];  // outputs past the image's edge go to the sink row
      for (int a = 0; a < M; ++a)
        for (int b = 0; b < M; ++b) {
          const int64_t yy = oy + w.DH * a, xx = ox + w.DW * b;
          y[a * M + b] = yy < w.OH && xx < w.OW ? w.out + ((n * w.OH + yy) * w.OW + xx) * OC : sink;
        }
      output_transform<M>(Mb + j * E * OC, OC, w.bias, w.relu, y);
    }
  });
}

}  // namespace
}  // namespace winograd

void winograd_conv3x3_forward(const float* x, const float* kernel, const float* bias, const Conv2DGeometry& g,
                              int64_t groups, int64_t OC, float* y, Conv2DWorkspace& ws, bool relu,
                              uint64_t kernel_version) {
  using namespace winograd;
  require_applicable("winograd_conv3x3_forward", g, groups, OC);
  constexpr int M = kTile;
  const int64_t CG = g.C / groups, OCG = OC / groups;
  const WinoConv w{x, nullptr, g.N, g.H, g.W, g.C, g.OH, g.OW, OC, g.DH, g.DW, g.pad_top, g.pad_left,
                   groups, CG, OCG, bias, relu, y};
  const Conv2DWorkspace::KernelKey key{kernel_version, kernel, groups, CG, OCG};
  run<M>(w, ws, key, [&](float* U) {
    // kernel [3, 3, CG, OC]: input channel i, filter gi*OCG + o
    transform_kernel<M>(groups, CG, OCG, [&](int64_t gi, int kh, int kw, int64_t i, int64_t o) {
      return kernel[((kh * 3 + kw) * CG + i) * OC + gi * OCG + o];
    }, U);
  });
}

void winograd_conv3x3_backward_input(const float* kernel, const float* dy, const Conv2DGeometry& g, int64_t groups,
                                     int64_t OC, float* dx, Conv2DWorkspace& ws, const float* relu_y) {
  using namespace winograd;
  require_applicable("winograd_conv3x3_backward_input", g, groups, OC);
  constexpr int M = kTile;
  const int64_t CG = g.C / groups, OCG = OC / groups;
  // dx(iy) = sum over kh of dy(iy + pad_top - DH*kh) * w(kh): a stride-1
  // convolution of dy whose tap kh' = 2 - kh reads dy(iy - (2*DH - pad_top) + DH*kh').
  const WinoConv w{dy, relu_y, g.N, g.OH, g.OW, OC, g.H, g.W, g.C, g.DH, g.DW, 2 * g.DH - g.pad_top,
                   2 * g.DW - g.pad_left, groups, OCG, CG, nullptr, false, dx};
  run<M>(w, ws, Conv2DWorkspace::KernelKey{}, [&](float* U) {
    // flipped in space, input channel o (a filter of the forward), output channel i
    transform_kernel<M>(groups, OCG, CG, [&](int64_t gi, int kh, int kw, int64_t o, int64_t i) {
      return kernel[(((2 - kh) * 3 + (2 - kw)) * CG + i) * OC + gi * OCG + o];
    }, U);
  });
}

WinogradProducts winograd_products(const Conv2DGeometry& g, int64_t groups, int64_t OC) {
  using namespace winograd;
  MINIDL_CHECK(winograd_applicable(g, groups, OC), ValueError,
               "winograd_products: not a Winograd convolution (kernel ({}, {}), strides ({}, {}), {} channels, {} "
               "filters, {} groups)",
               g.KH, g.KW, g.SH, g.SW, g.C, OC, groups);
  constexpr int A = F<kTile>::A;
  const Tiling grid(kTile, g.N, g.OH, g.OW, g.DH, g.DW);
  const int64_t CG = g.C / groups, OCG = OC / groups;
  return {grid.tiles, block_tiles(A * A, g.C, OC, grid.tiles), A * A, CG, OCG, small_group(CG, OCG)};
}

}  // namespace minidl::ops
