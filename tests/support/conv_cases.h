// tests/support/conv_cases.h — convolution cases for the ops tests (conv2d,
// Winograd, thread counts): the case description, one forward and backward
// run of ops/conv2d on it, the double-precision reference of
// ops/conv2d_reference.h, a finite-difference gradient check, and the
// reference with a relu after it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "ops/conv2d.h"
#include "ops/conv2d_algorithm.h"
#include "ops/conv2d_reference.h"
#include "support/assertions.h"
#include "support/tensors.h"

namespace minidl::testing {

// Sets the process-wide convolution algorithm (ops/conv2d_algorithm.h) for a
// test and puts back "auto", the default every other test expects, when it ends.
struct ConvAlgorithmGuard {
  explicit ConvAlgorithmGuard(std::string_view name = "auto") { set_conv_algorithm(name); }
  ~ConvAlgorithmGuard() { set_conv_algorithm("auto"); }
  ConvAlgorithmGuard(const ConvAlgorithmGuard&) = delete;
  ConvAlgorithmGuard& operator=(const ConvAlgorithmGuard&) = delete;
};

// Fills outputs that a kernel must overwrite.
inline const float kNaN = std::numeric_limits<float>::quiet_NaN();

// One convolution: input [N, H, W, C], kernel KH x KW, strides, dilation,
// G groups, OC filters, padding, bias, and the workspace cap of the fast kernel.
struct Config {
  int64_t N, H, W, C, KH, KW, SH, SW, DH, DW, G, OC;
  bool same, bias;
  int64_t cap_bytes;  // 0: the workspace default

  ops::Conv2DGeometry geometry() const { return ops::make_conv_geometry(N, H, W, C, KH, KW, SH, SW, DH, DW, same); }
  ops::ConvReferenceShape reference_shape() const { return {N, H, W, C, KH, KW, SH, SW, DH, DW, same}; }
  // b when the case has a bias, else no bias.
  std::span<const float> bias_of(const std::vector<float>& b) const {
    return bias ? std::span<const float>(b) : std::span<const float>();
  }
  std::string str() const {
    std::ostringstream s;
    s << "N=" << N << " H=" << H << " W=" << W << " C=" << C << " K=" << KH << "x" << KW << " S=" << SH << "," << SW
      << " D=" << DH << "," << DW << " G=" << G << " OC=" << OC << (same ? " same" : " valid")
      << (bias ? " bias" : "") << " cap=" << cap_bytes;
    return s.str();
  }
};

// Inputs of one case: x, kernel, bias and an output gradient, U[-1, 1).
struct ConvData {
  std::vector<float> x, k, b, dy;
};

// Draws x, kernel, bias and dy for case c from rng, in that order.
inline ConvData random_conv_data(const Config& c, std::mt19937& rng) {
  const auto g = c.geometry();
  ConvData d;
  d.x = random_floats(g.N * g.H * g.W * g.C, rng);
  d.k = random_floats(g.KH * g.KW * (g.C / c.G) * c.OC, rng);
  d.b = random_floats(c.OC, rng);
  d.dy = random_floats(g.N * g.OH * g.OW * c.OC, rng);
  return d;
}

// A workspace with case c's cap (the default when cap_bytes is 0) and `algorithm`.
inline ops::Conv2DWorkspace workspace_for(const Config& c, ops::ConvAlgorithm algorithm = ops::ConvAlgorithm::kAuto) {
  ops::Conv2DWorkspace ws = c.cap_bytes ? ops::Conv2DWorkspace(c.cap_bytes, 1) : ops::Conv2DWorkspace();
  ws.set_algorithm(algorithm);
  return ws;
}

// The output and the gradients of one run of ops::conv2d. Each starts as NaN,
// so a kernel that leaves a value unwritten shows.
struct ConvOutputs {
  std::vector<float> y, dx, dk, db;
};

// conv2d_forward on d (with d.b when the case has a bias; the fused relu when
// `relu`), then conv2d_backward of d.dy (masked by y when `relu`), with ws.
inline ConvOutputs run_conv2d(const Config& c, const ConvData& d, ops::Conv2DWorkspace& ws, bool relu = false) {
  const auto g = c.geometry();
  ConvOutputs o{std::vector<float>(d.dy.size(), kNaN), std::vector<float>(d.x.size(), kNaN),
                std::vector<float>(d.k.size(), kNaN), std::vector<float>(c.OC, kNaN)};
  ops::conv2d_forward(d.x.data(), d.k.data(), c.bias ? d.b.data() : nullptr, g, c.G, c.OC, o.y.data(), ws, relu);
  ops::conv2d_backward(d.x.data(), d.k.data(), d.dy.data(), g, c.G, c.OC, o.dx.data(), o.dk.data(), o.db.data(), ws,
                       relu ? o.y.data() : nullptr);
  return o;
}

// The three gradients of d.dy, each from a conv2d_backward call that asks for
// it alone (the other outputs, and the inputs it does not need, null); y stays empty.
inline ConvOutputs gradients_one_at_a_time(const Config& c, const ConvData& d, ops::Conv2DWorkspace& ws) {
  const auto g = c.geometry();
  ConvOutputs o{{}, std::vector<float>(d.x.size(), kNaN), std::vector<float>(d.k.size(), kNaN),
                std::vector<float>(c.OC, kNaN)};
  ops::conv2d_backward(nullptr, d.k.data(), d.dy.data(), g, c.G, c.OC, o.dx.data(), nullptr, nullptr, ws);
  ops::conv2d_backward(d.x.data(), nullptr, d.dy.data(), g, c.G, c.OC, nullptr, o.dk.data(), nullptr, ws);
  ops::conv2d_backward(nullptr, nullptr, d.dy.data(), g, c.G, c.OC, nullptr, nullptr, o.db.data(), ws);
  return o;
}

// The gradients of one random data set of case c (drawn from rng) computed
// together (run_conv2d) and each alone (gradients_one_at_a_time), with ws.
struct GradientsTogetherAndAlone {
  ConvOutputs together, alone;
};
inline GradientsTogetherAndAlone gradients_together_and_alone(const Config& c, std::mt19937& rng,
                                                              ops::Conv2DWorkspace& ws) {
  const ConvData d = random_conv_data(c, rng);
  ConvOutputs together = run_conv2d(c, d, ws);
  return {std::move(together), gradients_one_at_a_time(c, d, ws)};
}

// ops::conv2d_reference on case c (b empty: no bias).
inline std::vector<double> reference_forward(const Config& c, const std::vector<float>& x,
                                             const std::vector<float>& k, std::span<const float> b) {
  return ops::conv2d_reference(c.reference_shape(), x, k, b, c.OC, c.G);
}

inline ops::Conv2DReferenceGradients reference_backward(const Config& c, const std::vector<float>& x,
                                                        const std::vector<float>& k, const std::vector<float>& dy) {
  return ops::conv2d_reference_backward(c.reference_shape(), x, k, dy, c.OC, c.G);
}

// Whether the gradients of o match the reference's within tol, elementwise
// (close) or relative to each tensor's largest value (close_to_scale, for
// Winograd's rounding); `what` names the case in the failure message.
inline ::testing::AssertionResult gradients_match(const ConvOutputs& o, const ops::Conv2DReferenceGradients& want,
                                                  double tol, bool to_scale, const std::string& what) {
  const auto check = [&](const std::vector<float>& got, const std::vector<double>& expected) {
    return to_scale ? close_to_scale(got, expected, tol) : close(got, expected, tol);
  };
  for (auto [got, expected, name] : {std::tuple{&o.dx, &want.dx, "dx"}, {&o.dk, &want.dkernel, "dkernel"},
                                     {&o.db, &want.dbias, "dbias"}})
    if (::testing::AssertionResult r = check(*got, *expected); !r) return r << " (" << name << ", " << what << ")";
  return ::testing::AssertionSuccess();
}

// Conv is linear in x, kernel and bias, so central differences of
// L = sum(y * r) are exact up to float rounding (a large step keeps that
// small): checks every gradient conv2d_backward gives with workspace `ws`
// against them, to `tol`, for case `c` with random values from `rng`.
inline void check_gradients_by_finite_differences(const Config& c, ops::Conv2DWorkspace& ws, std::mt19937& rng,
                                                  double tol) {
  const auto g = c.geometry();
  auto x = random_floats(g.N * g.H * g.W * g.C, rng), k = random_floats(g.KH * g.KW * (g.C / c.G) * c.OC, rng),
       b = random_floats(c.OC, rng);
  const auto r = random_floats(g.N * g.OH * g.OW * c.OC, rng);
  auto loss = [&] {
    std::vector<float> y(r.size());
    ops::conv2d_forward(x.data(), k.data(), b.data(), g, c.G, c.OC, y.data(), ws);
    double s = 0;
    for (size_t i = 0; i < y.size(); ++i) s += double(y[i]) * r[i];
    return s;
  };
  std::vector<float> dx(x.size()), dk(k.size()), db(b.size());
  ops::conv2d_backward(x.data(), k.data(), r.data(), g, c.G, c.OC, dx.data(), dk.data(), db.data(), ws);
  const float eps = 0.25f;
  for (auto [param, grad, name] : {std::tuple{&x, &dx, "x"}, {&k, &dk, "kernel"}, {&b, &db, "bias"}})
    for (size_t i = 0; i < param->size(); ++i) {
      const float keep = (*param)[i];
      (*param)[i] = keep + eps;
      const double up = loss();
      (*param)[i] = keep - eps;
      const double down = loss();
      (*param)[i] = keep;
      ASSERT_NEAR((up - down) / (2 * eps), (*grad)[i], tol) << name << "[" << i << "] " << c.str();
    }
}

// The reference output with a relu after it, and the output gradient a fused
// relu lets through (dy where the output was positive, else 0). `positive`
// counts the cells kept, so a test can check that the mask matters.
struct ReluReference {
  std::vector<double> y;
  std::vector<float> masked_dy;
  int positive = 0;
};

inline ReluReference with_relu(std::vector<double> y, const std::vector<float>& dy) {
  ReluReference r{std::move(y), std::vector<float>(dy.size()), 0};
  for (size_t i = 0; i < r.y.size(); ++i) {
    r.masked_dy[i] = r.y[i] > 0 ? dy[i] : 0.f;
    r.positive += r.y[i] > 0;
    r.y[i] = std::max(r.y[i], 0.0);
  }
  return r;
}

}  // namespace minidl::testing
