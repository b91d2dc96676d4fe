// layers/normalization/batch_norm_kernels.cpp — the fused batch-norm kernels and their backward.
#include "layers/normalization/batch_norm_kernels.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <span>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "core/scratch.h"
#include "layers/normalization/cross_replica.h"
#include "ops/batch_sum.h"

namespace minidl::detail {

namespace {

// Visits every element of rows [a0, a1) of the [A, P, B] block as f(flat_index, feature).
template <class F>
void sweep_rows(const BatchNormLayout& l, int64_t a0, int64_t a1, F&& f) {
  if (l.B == 1) {
    // Channels last (NHWC, Dense): features are contiguous, so the inner loop
    // runs over them and vectorizes; the generic form would loop over B = 1.
    for (int64_t a = a0; a < a1; ++a)
      for (int64_t p = 0; p < l.P; ++p) f(a * l.P + p, p);
    return;
  }
  for (int64_t a = a0; a < a1; ++a)
    for (int64_t p = 0; p < l.P; ++p) {
      const int64_t base = (a * l.P + p) * l.B;
      for (int64_t b = 0; b < l.B; ++b) f(base + b, p);
    }
}

// Visits every element of the [A, P, B] block as f(flat_index, feature).
template <class F>
void sweep(const BatchNormLayout& l, F&& f) {
  sweep_rows(l, 0, l.A, std::forward<F>(f));
}

// The inputs recorded on the tape: x, then gamma and beta when present (held
// inline: a training step records one per BatchNormalization call).
struct TapeInputs {
  std::array<Variable, 3> vars;
  size_t count = 0;
  int gamma = -1, beta = -1;  // positions in vars, -1 when absent
  std::span<const Variable> list() const { return {vars.data(), count}; }
};

TapeInputs tape_inputs(const Variable& x, const Variable& gamma, const Variable& beta) {
  TapeInputs t;
  t.vars[t.count++] = x;
  if (gamma.defined()) {
    t.gamma = static_cast<int>(t.count);
    t.vars[t.count++] = gamma;
  }
  if (beta.defined()) {
    t.beta = static_cast<int>(t.count);
    t.vars[t.count++] = beta;
  }
  return t;
}

// A P-element parameter's values (shared, not copied), or `fill` everywhere when absent.
Tensor param_values(const Variable& v, int64_t P, float fill) {
  if (!v.defined()) return Tensor::full({P}, fill);
  MINIDL_CHECK(v.value().numel() == P, ValueError, "batch norm: parameter {} has {} elements, expected {}", v.name(),
               v.value().numel(), P);
  return v.value();
}

// Scratch for the per-feature double sums: a leased vector (core/scratch.h),
// so that a steady-state training step allocates nothing for them.
class DoubleScratch {
 public:
  explicit DoubleScratch(int64_t n) { buffer_->assign(static_cast<size_t>(n), 0.0); }
  // n doubles, all zero at the start of the lease.
  double* data() const { return buffer_->data(); }

 private:
  ScratchLease<std::vector<double>> buffer_;
};

void check_layout(const Variable& x, const BatchNormLayout& l) {
  MINIDL_CHECK(x.value().numel() == l.A * l.P * l.B, ValueError,
               "batch norm: input of shape {} does not match the layout [{}, {}, {}]", shape_str(x.shape()), l.A,
               l.P, l.B);
}

// Elements per group of samples in the sums over the batch of gamma's and beta's gradients.
constexpr int64_t kElementsPerGroup = int64_t{1} << 14;

// Gamma's and beta's gradients, dgamma = scale * sum(dy * (x - centre)) and
// dbeta = sum(dy) per feature, summed over fixed groups of samples added
// pairwise (ops/batch_sum.h): replicas holding parts of a batch then sum to
// the same bits as one process holding all of it. `samples` is the batch
// size, whose axis leads the layout's A axis. The totals, in double, go to
// totals[0, 2P) (dbeta, then dgamma before `scale`) when it is not null.
void param_grads(const BatchNormLayout& l, int64_t samples, const float* xs, const float* gs, const float* centre,
                 const float* scale, float* dbeta, float* dgamma, double* totals) {
  const int64_t P = l.P;
  int64_t rows = std::max<int64_t>(l.A, 1);  // one group unless the batch leads A
  if (samples > 0 && l.A % samples == 0) {
    const int64_t per_sample = l.A / samples;
    rows = ops::samples_per_group(per_sample * P * l.B, kElementsPerGroup) * per_sample;
  }
  const DoubleScratch sums(2 * P);
  const ScratchLease<std::vector<float>> both;  // [dbeta, dgamma]
  both->resize(static_cast<size_t>(2 * P));
  ops::pairwise_groups(std::max<int64_t>(1, ops::group_count(l.A, rows)), 2 * P, both->data(),
                       [&](int64_t k, float* part) {
                         double* s = sums.data();
                         std::fill_n(s, 2 * P, 0.0);
                         sweep_rows(l, std::min(l.A, k * rows), std::min(l.A, (k + 1) * rows),
                                    [&](int64_t i, int64_t p) {
                                      s[p] += gs[i];
                                      s[P + p] += double(gs[i]) * (double(xs[i]) - double(centre[p]));
                                    });
                         for (int64_t p = 0; p < P; ++p) {
                           part[p] = static_cast<float>(s[p]);
                           part[P + p] = static_cast<float>(s[P + p] * double(scale[p]));
                           if (totals) {
                             totals[p] += s[p];
                             totals[P + p] += s[P + p];
                           }
                         }
                       });
  if (dbeta) std::copy_n(both->data(), P, dbeta);
  if (dgamma) std::copy_n(both->data() + P, P, dgamma);
}

CrossReplicaSum* g_cross_replica = nullptr;

}  // namespace

float batch_norm_epsilon(double epsilon, int rank, const std::vector<int>& axes) {
  const bool fused = rank == 4 && axes.size() == 1 && (axes[0] == 1 || axes[0] == 3);
  return static_cast<float>(fused ? std::max(epsilon, 1.001e-5) : epsilon);
}

Variable batch_norm_training(const Variable& x, const Variable& gamma, const Variable& beta,
                             const BatchNormLayout& l, float epsilon, BatchMoments* moments) {
  check_layout(x, l);
  const int64_t P = l.P;
  CrossReplicaSum* const replicas = g_cross_replica;
  const float* xs = x.value().data();

  // Two passes (mean, then squared deviations) keep the variance accurate when |mean| >> std.
  // sum[P] holds the local count, summed with the feature sums across replicas.
  const DoubleScratch scratch(2 * P + 1);
  double* sum = scratch.data();
  double* sq = sum + P + 1;
  sweep(l, [&](int64_t i, int64_t p) { sum[p] += xs[i]; });
  sum[P] = static_cast<double>(l.A * l.B);
  if (replicas) replicas->sum(sum, P + 1);
  const double n = sum[P];
  // The [P] statistics are tensors (from the cache), shared with the backward closure.
  Tensor mean_t({P}), var_t({P}), inv_t({P}), k_t({P});
  float* mean = mean_t.data();
  float* inv = inv_t.data();
  for (int64_t p = 0; p < P; ++p) mean[p] = static_cast<float>(n > 0 ? sum[p] / n : 0.0);
  sweep(l, [&](int64_t i, int64_t p) {
    const double d = double(xs[i]) - double(mean[p]);
    sq[p] += d * d;
  });
  if (replicas) replicas->sum(sq, P);
  for (int64_t p = 0; p < P; ++p) {
    const double var = n > 0 ? sq[p] / n : 0.0;
    inv[p] = static_cast<float>(1.0 / std::sqrt(var + double(epsilon)));
    var_t[p] = static_cast<float>(var);
  }
  if (moments) *moments = {mean_t, var_t, static_cast<int64_t>(n)};

  const Tensor g_t = param_values(gamma, P, 1.f), bt_t = param_values(beta, P, 0.f);
  const float* g = g_t.data();
  const float* bt = bt_t.data();
  float* k = k_t.data();  // gamma / sqrt(var + eps)
  for (int64_t p = 0; p < P; ++p) k[p] = g[p] * inv[p];
  Tensor y(x.shape());
  float* ys = y.data();
  sweep(l, [&](int64_t i, int64_t p) { ys[i] = (xs[i] - mean[p]) * k[p] + bt[p]; });

  const TapeInputs t = tape_inputs(x, gamma, beta);
  const Tensor xv = x.value();
  const Shape gamma_shape = gamma.defined() ? gamma.shape() : Shape{};
  const Shape beta_shape = beta.defined() ? beta.shape() : Shape{};
  const int gi = t.gamma, bi = t.beta;
  return make_result(
      y, t.list(), "BatchNormalization",
      [xv, l, n, replicas, mean_t, inv_t, k_t, gi, bi, gamma_shape, beta_shape](const Tensor& dy,
                                                                                const std::vector<bool>& needs) {
        const int64_t samples = xv.rank() >= 1 ? xv.dim(0) : 1;
        const int64_t P = l.P;
        const float* xs = xv.data();
        const float* gs = dy.data();
        const float* mean = mean_t.data();
        const float* inv = inv_t.data();
        const float* k = k_t.data();
        const DoubleScratch scratch(2 * P);
        double* dbeta = scratch.data();  // sum(dy)
        double* dgamma = dbeta + P;      // sum(dy * xhat)
        Grads grads(needs.size());
        if (gi >= 0 && needs[gi]) grads[gi] = Tensor(gamma_shape);
        if (bi >= 0 && needs[bi]) grads[bi] = Tensor(beta_shape);
        param_grads(l, samples, xs, gs, mean, inv, bi >= 0 && needs[bi] ? grads[bi].data() : nullptr,
                    gi >= 0 && needs[gi] ? grads[gi].data() : nullptr, dbeta);
        for (int64_t p = 0; p < P; ++p) dgamma[p] *= inv[p];
        if (needs[0]) {
          // dx = k * (dy - mean(dy) - xhat * mean(dy * xhat)), k = gamma / sqrt(var + eps).
          // Across replicas the means are over the global batch, each replica's
          // dy weighted by its share of the loss, and the result is brought back
          // to the units of this replica's dy.
          const DoubleScratch global(replicas ? 2 * P : 0);
          const double* gb = dbeta;
          const double* gg = dgamma;
          double scale = 1.0 / n;
          if (replicas) {
            const double share = replicas->share();
            double* g = global.data();
            for (int64_t p = 0; p < 2 * P; ++p) g[p] = dbeta[p] * share;  // dbeta and dgamma are adjacent
            replicas->sum(g, 2 * P);
            gb = g;
            gg = g + P;
            scale = 1.0 / (n * share);
          }
          Tensor mb_t({P}), mg_t({P});
          float* mb = mb_t.data();
          float* mg = mg_t.data();
          for (int64_t p = 0; p < P; ++p) {
            mb[p] = static_cast<float>(gb[p] * scale);
            mg[p] = static_cast<float>(gg[p] * scale);
          }
          Tensor dx(xv.shape());
          float* d = dx.data();
          sweep(l, [&](int64_t i, int64_t p) {
            const float xhat = (xs[i] - mean[p]) * inv[p];
            d[i] = k[p] * (gs[i] - mb[p] - xhat * mg[p]);
          });
          grads[0] = dx;
        }
        return grads;
      });
}

Variable batch_norm_inference(const Variable& x, const Variable& gamma, const Variable& beta, const Tensor& mean,
                              const Tensor& variance, const BatchNormLayout& l, float epsilon) {
  check_layout(x, l);
  const int64_t P = l.P;
  MINIDL_CHECK(mean.numel() == P && variance.numel() == P, ValueError,
               "batch norm: moving statistics have {} and {} elements, expected {}", mean.numel(), variance.numel(),
               P);
  const std::vector<float> g = param_values(gamma, P, 1.f).to_vector(), bt = param_values(beta, P, 0.f).to_vector();
  const std::vector<float> m = mean.to_vector();
  std::vector<float> rs(P), a(P), c(P);
  for (int64_t p = 0; p < P; ++p) {
    rs[p] = 1.f / std::sqrt(variance[p] + epsilon);
    a[p] = rs[p] * g[p];
    c[p] = bt[p] - m[p] * a[p];
  }
  const float* xs = x.value().data();
  Tensor y(x.shape());
  float* ys = y.data();
  sweep(l, [&](int64_t i, int64_t p) { ys[i] = xs[i] * a[p] + c[p]; });

  const TapeInputs t = tape_inputs(x, gamma, beta);
  const Tensor xv = x.value();
  const Shape gamma_shape = gamma.defined() ? gamma.shape() : Shape{};
  const Shape beta_shape = beta.defined() ? beta.shape() : Shape{};
  const int gi = t.gamma, bi = t.beta;
  return make_result(y, t.list(), "BatchNormalization",
                     [xv, l, m, rs, a, gi, bi, gamma_shape, beta_shape](const Tensor& dy,
                                                                        const std::vector<bool>& needs) {
                       const float* gs = dy.data();
                       std::vector<Tensor> grads(needs.size());
                       if (needs[0]) {
                         Tensor dx(xv.shape());
                         float* d = dx.data();
                         sweep(l, [&](int64_t i, int64_t p) { d[i] = gs[i] * a[p]; });
                         grads[0] = dx;
                       }
                       const bool want_g = gi >= 0 && needs[gi], want_b = bi >= 0 && needs[bi];
                       if (want_g || want_b) {
                         if (want_g) grads[gi] = Tensor(gamma_shape);
                         if (want_b) grads[bi] = Tensor(beta_shape);
                         param_grads(l, xv.rank() >= 1 ? xv.dim(0) : 1, xv.data(), gs, m.data(), rs.data(),
                                     want_b ? grads[bi].data() : nullptr, want_g ? grads[gi].data() : nullptr,
                                     nullptr);
                       }
                       return grads;
                     });
}

}  // namespace minidl::detail

namespace minidl {

void set_cross_replica_sum(CrossReplicaSum* reducer) { detail::g_cross_replica = reducer; }
CrossReplicaSum* cross_replica_sum() { return detail::g_cross_replica; }

}  // namespace minidl
