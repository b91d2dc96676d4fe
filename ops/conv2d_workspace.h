// ops/conv2d_workspace.h — the choice of convolution method and the reusable scratch memory
// that ops/conv2d.h, ops/winograd.h and ops/conv2d_direct.h share.
//
// A layer keeps one Conv2DWorkspace alive across calls, so that the steady state
// allocates nothing: the buffer grows to the largest size ever asked for and is
// handed out again on every later call.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace minidl::ops {

// Which method conv2d_forward/backward use. kAuto picks Winograd F(4x4, 3x3)
// (ops/winograd.h) for 3x3 stride-1 convolutions with at least 8 channels and
// filters per group (forward, input and kernel gradients); the direct loop of
// ops/conv2d_direct.h for the forward of one-group convolutions with at most
// 32 taps per output (KH*KW*C: first layers) and a kernel larger than 1x1;
// the direct depthwise kernels of ops/depthwise_conv2d.h for one input
// channel per group (forward and backward); and im2col + GEMM for everything
// else (a 1x1 stride-1 kernel without padding needs no unfolding: one GEMM on
// the NHWC input). The others force one method: kIm2col, kWinograd, kDirect
// (the forward only; its backward is im2col's) and kReference (the
// double-precision loops of ops/conv2d_reference.h, forward and backward).
// kWinograd and kDirect raise ValueError on a convolution they cannot
// compute. A workspace left at kAuto follows the process-wide choice of
// ops/conv2d_algorithm.h (set_conv_algorithm, MINIDL_CONV_ALGORITHM), itself
// kAuto by default.
enum class ConvAlgorithm { kAuto, kIm2col, kWinograd, kDirect, kReference };

// Reusable scratch memory for conv2d_forward/backward. It grows to the largest
// tile ever needed and never shrinks, so repeated calls of one shape allocate
// nothing. Not thread-safe: use one workspace per concurrent caller. Copies
// share no buffer with the original.
//
// Tiling: a tile is max(min_tile_rows, max_col_bytes / (4*KH*KW*C)) output
// pixels (at most the whole batch), i.e. the cap is on the unfolded tile of
// all groups together; only one group's columns (a 1/G share) are held at a
// time. Each thread has its own column block, so the buffer holds about
// threads * max(max_col_bytes / G, min_tile_rows * 4*KH*KW*C/G) bytes, plus,
// in the backward, a dkernel-sized block per extra chunk of images
// and, with relu_y, a [tile, OC] block of masked dy per thread.
class Conv2DWorkspace {
 public:
  // Tiles that stay in cache between im2col writing them and the GEMM reading
  // them are 20-30% faster than 16 MiB ones (bench_conv2d, process CPU time,
  // one thread, 0.25-1 MiB caps); grouped convs, which revisit a tile's input
  // and output once per group, gain most.
  static constexpr int64_t kDefaultMaxColBytes = int64_t{1} << 20;
  // A GEMM over fewer rows spends more time packing the kernel than multiplying.
  static constexpr int64_t kDefaultMinTileRows = 256;

  // ValueError unless max_col_bytes >= 1 and min_tile_rows >= 1.
  explicit Conv2DWorkspace(int64_t max_col_bytes = kDefaultMaxColBytes,
                           int64_t min_tile_rows = kDefaultMinTileRows);
  Conv2DWorkspace(const Conv2DWorkspace& other) : Conv2DWorkspace(other.max_col_bytes_, other.min_tile_rows_) {
    algorithm_ = other.algorithm_;
  }
  Conv2DWorkspace& operator=(const Conv2DWorkspace& other);
  Conv2DWorkspace(Conv2DWorkspace&&) noexcept = default;
  Conv2DWorkspace& operator=(Conv2DWorkspace&&) noexcept = default;

  // The tiling parameters above; ValueError unless the value is >= 1.
  void set_max_col_bytes(int64_t bytes);
  int64_t max_col_bytes() const { return max_col_bytes_; }
  void set_min_tile_rows(int64_t rows);
  int64_t min_tile_rows() const { return min_tile_rows_; }

  void set_algorithm(ConvAlgorithm a) { algorithm_ = a; }
  ConvAlgorithm algorithm() const { return algorithm_; }

  // Floats currently allocated for the column buffer (for tests and diagnostics).
  int64_t capacity() const { return capacity_; }

  // A transformed kernel kept across calls (the Winograd forward's U,
  // ops/winograd.h), identified by the kernel's version (autograd's
  // weight_version: it changes whenever the weight may have changed), its
  // address and its group sizes. kernel_transform(key, n, valid) returns a
  // buffer of at least n floats: the one filled for the same key by an earlier
  // call (valid = true), or one the caller must fill now (valid = false) and
  // then mark as holding key's transform with mark_kernel_transform(key). A
  // version of 0 means "unknown": such a key never matches.
  struct KernelKey {
    uint64_t version = 0;
    const float* kernel = nullptr;
    int64_t groups = 0, CG = 0, OCG = 0;
    bool operator==(const KernelKey&) const = default;
  };
  float* kernel_transform(const KernelKey& key, int64_t n, bool& valid);
  void mark_kernel_transform(const KernelKey& key);

  // Buffers of at least n floats (64-byte aligned) / n doubles; contents are
  // unspecified and a later call may return the same memory.
  float* floats(int64_t n);
  double* doubles(int64_t n);

  // n floats rounded up to whole 64-byte lines: the size of one block carved
  // out of floats(), so that every block starts aligned.
  static constexpr int64_t lines(int64_t n) { return (n + 15) / 16 * 16; }

 private:
  int64_t max_col_bytes_;
  int64_t min_tile_rows_;
  ConvAlgorithm algorithm_ = ConvAlgorithm::kAuto;
  std::shared_ptr<float[]> buffer_;
  int64_t capacity_ = 0;
  std::vector<double> sums_;
  std::shared_ptr<float[]> transform_;  // kernel_transform's buffer and the key it holds
  int64_t transform_capacity_ = 0;
  KernelKey transform_key_;
};

// The chunked reductions of the backward passes end here, in the pairwise
// order of ops/batch_sum.h, so that results depend neither on which thread
// summed which chunk nor, when the chunks are fixed groups of images, on how
// the batch is split between data-parallel replicas:
//   dbias[o] = pairwise sum over c < chunks of float(sums[c * OC + o])   (each chunk's sum in double)
void sum_chunk_bias(const double* sums, int64_t chunks, int64_t OC, float* dbias);
//   total[i] = pairwise sum of total[i] (chunk 0) and parts[(c - 1) * stride + i]
//   (chunk c) for c = 1 .. chunks, i < count; parts are overwritten
void add_chunk_partials(float* parts, int64_t chunks, int64_t stride, int64_t count, float* total);

}  // namespace minidl::ops
