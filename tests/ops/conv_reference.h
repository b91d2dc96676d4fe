// tests/ops/conv_reference.h — the direct convolution in double precision that
// the conv2d and Winograd tests compare with, and their shared helpers.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "ops/conv2d.h"

namespace minidl::testing {

using ops::Conv2DGeometry;

inline const float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Config {
  int64_t N, H, W, C, KH, KW, SH, SW, DH, DW, G, OC;
  bool same, bias;
  int64_t cap_bytes;  // 0: the workspace default

  Conv2DGeometry geometry() const { return ops::make_conv_geometry(N, H, W, C, KH, KW, SH, SW, DH, DW, same); }
  std::string str() const {
    std::ostringstream s;
    s << "N=" << N << " H=" << H << " W=" << W << " C=" << C << " K=" << KH << "x" << KW << " S=" << SH << "," << SW
      << " D=" << DH << "," << DW << " G=" << G << " OC=" << OC << (same ? " same" : " valid")
      << (bias ? " bias" : "") << " cap=" << cap_bytes;
    return s.str();
  }
};

// Direct convolution and its gradients, in double, from the definition
//   y[n,oh,ow,o] = b[o] + sum_{kh,kw,c} x[n, oh*SH-pt+kh*DH, ow*SW-pl+kw*DW, g*CG+c] * k[kh,kw,c,o]
// with g = o / (OC/G) and out-of-image taps reading zero.
struct Naive {
  const Conv2DGeometry& g;
  int64_t G, OC;

  template <class F>  // F(x_index, k_index, y_index) for every in-image tap
  void for_each_tap(F f) const {
    const int64_t CG = g.C / G, OCG = OC / G;
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow)
          for (int64_t o = 0; o < OC; ++o)
            for (int64_t kh = 0; kh < g.KH; ++kh)
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                const int64_t ih = oh * g.SH - g.pad_top + kh * g.DH, iw = ow * g.SW - g.pad_left + kw * g.DW;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                for (int64_t c = 0; c < CG; ++c)
                  f(((n * g.H + ih) * g.W + iw) * g.C + (o / OCG) * CG + c, ((kh * g.KW + kw) * CG + c) * OC + o,
                    ((n * g.OH + oh) * g.OW + ow) * OC + o);
              }
  }
  std::vector<double> forward(const std::vector<float>& x, const std::vector<float>& k, const float* b) const {
    std::vector<double> y(g.N * g.OH * g.OW * OC, 0.0);
    for (size_t i = 0; i < y.size(); ++i) y[i] = b ? b[i % OC] : 0.0;
    for_each_tap([&](int64_t xi, int64_t ki, int64_t yi) { y[yi] += double(x[xi]) * k[ki]; });
    return y;
  }
  void backward(const std::vector<float>& x, const std::vector<float>& k, const std::vector<float>& dy,
                std::vector<double>& dx, std::vector<double>& dk, std::vector<double>& db) const {
    dx.assign(x.size(), 0.0), dk.assign(k.size(), 0.0), db.assign(OC, 0.0);
    for_each_tap([&](int64_t xi, int64_t ki, int64_t yi) {
      dx[xi] += double(dy[yi]) * k[ki];
      dk[ki] += double(dy[yi]) * x[xi];
    });
    for (size_t i = 0; i < dy.size(); ++i) db[i % OC] += dy[i];
  }
};

inline std::vector<float> random_floats(int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& f : v) f = u(rng);
  return v;
}

inline ::testing::AssertionResult close(const std::vector<float>& got, const std::vector<double>& want, double tol) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << "sizes " << got.size() << " vs " << want.size();
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= tol * (1 + std::fabs(want[i]))))
      return ::testing::AssertionFailure() << "at " << i << ": " << got[i] << " vs " << want[i];
  return ::testing::AssertionSuccess();
}

// The conformance cases' kind of tolerance: every |got - want| at most
// tol * max(1, max |want|), i.e. relative to the tensor's scale rather than to
// each element (a Winograd transform spreads rounding across a tile).
inline ::testing::AssertionResult close_to_scale(const std::vector<float>& got, const std::vector<double>& want,
                                                 double tol) {
  if (got.size() != want.size()) return ::testing::AssertionFailure() << "sizes " << got.size() << " vs " << want.size();
  double scale = 1;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= tol * scale))
      return ::testing::AssertionFailure() << "at " << i << ": " << got[i] << " vs " << want[i] << " (scale " << scale
                                           << ")";
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
