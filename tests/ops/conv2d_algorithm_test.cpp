// tests/ops/conv2d_algorithm_test.cpp — the process-wide convolution algorithm
// (ops/conv2d_algorithm.h): its names, the setter and MINIDL_CONV_ALGORITHM,
// workspaces at kAuto following it, the ValueErrors of a forced method that
// cannot compute a convolution, and ConvAlgorithm::kReference through
// ops/conv2d against the reference definition (its finite differences and
// each-gradient-alone checks are in conv2d_test.cpp, with the other algorithms').
#include "ops/conv2d_algorithm.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/errors.h"
#include "ops/conv2d.h"
#include "support/assertions.h"
#include "support/conv_cases.h"

using namespace minidl;
using namespace minidl::testing;

namespace {

constexpr const char* kVariable = "MINIDL_CONV_ALGORITHM";

// Sets MINIDL_CONV_ALGORITHM (or unsets it, for nullopt) for one test; puts
// back the variable as it was and the choice "auto" when the test ends.
class EnvironmentGuard {
 public:
  explicit EnvironmentGuard(std::optional<std::string> value) {
    if (const char* old = std::getenv(kVariable)) saved_ = old;
    set(value);
  }
  ~EnvironmentGuard() {
    set(saved_);
    set_conv_algorithm("auto");
  }
  void set(const std::optional<std::string>& value) {
    if (value)
      setenv(kVariable, value->c_str(), 1);
    else
      unsetenv(kVariable);
  }

 private:
  std::optional<std::string> saved_;
};

const char* const kNames[] = {"auto", "im2col", "winograd", "direct", "reference"};

}  // namespace

TEST(ConvAlgorithmChoice, SetterAndGetterUseTheFiveNames) {
  ConvAlgorithmGuard guard;
  EXPECT_EQ(conv_algorithm(), "auto");
  for (const char* name : kNames) {
    set_conv_algorithm(name);
    EXPECT_EQ(conv_algorithm(), name);
    EXPECT_EQ(ops::conv_algorithm_name(ops::process_conv_algorithm()), name);
  }
}

TEST(ConvAlgorithmChoice, UnknownNameIsAValueErrorListingTheValidOnes) {
  ConvAlgorithmGuard guard("im2col");
  EXPECT_TRUE(ThrowsWith<ValueError>([] { set_conv_algorithm("Im2col"); },
                                     {"set_conv_algorithm", "\"Im2col\"", "\"auto\", \"im2col\", \"winograd\", "
                                                                          "\"direct\", \"reference\""}));
  EXPECT_TRUE(ThrowsWith<ValueError>([] { set_conv_algorithm(""); }, {"unknown convolution algorithm \"\""}));
  EXPECT_EQ(conv_algorithm(), "im2col");  // unchanged
}

TEST(ConvAlgorithmChoice, EnvironmentVariableSetsTheChoice) {
  EnvironmentGuard env("reference");
  set_conv_algorithm_from_environment();
  EXPECT_EQ(conv_algorithm(), "reference");
  env.set("winograd");
  EXPECT_EQ(conv_algorithm(), "reference");  // read when asked to, not on every call
  set_conv_algorithm_from_environment();
  EXPECT_EQ(conv_algorithm(), "winograd");
  set_conv_algorithm("direct");  // the setter overrides the variable
  EXPECT_EQ(conv_algorithm(), "direct");
  env.set(std::nullopt);
  set_conv_algorithm_from_environment();
  EXPECT_EQ(conv_algorithm(), "auto");
  env.set("");
  set_conv_algorithm_from_environment();
  EXPECT_EQ(conv_algorithm(), "auto");
}

TEST(ConvAlgorithmChoice, BadEnvironmentValueIsAValueErrorNamingTheVariable) {
  EnvironmentGuard env("fast");
  set_conv_algorithm("im2col");
  EXPECT_TRUE(ThrowsWith<ValueError>([] { set_conv_algorithm_from_environment(); },
                                     {"MINIDL_CONV_ALGORITHM", "\"fast\"", "\"reference\""}));
  EXPECT_EQ(conv_algorithm(), "im2col");  // left as it was
}

TEST(ConvAlgorithmChoice, ParseAndNameRoundTrip) {
  for (const char* name : kNames) EXPECT_EQ(ops::conv_algorithm_name(ops::parse_conv_algorithm(name, "test")), name);
  EXPECT_TRUE(ThrowsWith<ValueError>([] { ops::parse_conv_algorithm("gemm", "--algorithm"); },
                                     {"--algorithm", "\"gemm\""}));
}

// A workspace left at kAuto takes the process-wide method; one set to another keeps its own.
TEST(ConvAlgorithmChoice, WorkspaceAtAutoFollowsTheProcessWideChoice) {
  ConvAlgorithmGuard guard;
  std::mt19937 rng(31);
  const Config strided{2, 7, 6, 8, 3, 3, 2, 2, 1, 1, 1, 8, true, true, 0};
  const ConvData d = random_conv_data(strided, rng);
  ops::Conv2DWorkspace follows, reference = workspace_for(strided, ops::ConvAlgorithm::kReference),
                                im2col = workspace_for(strided, ops::ConvAlgorithm::kIm2col);
  EXPECT_EQ(ops::effective_conv_algorithm(follows), ops::ConvAlgorithm::kAuto);
  set_conv_algorithm("reference");
  EXPECT_EQ(ops::effective_conv_algorithm(follows), ops::ConvAlgorithm::kReference);
  EXPECT_EQ(ops::effective_conv_algorithm(im2col), ops::ConvAlgorithm::kIm2col);
  // The reference loops run in a fixed order, so the same call gives the same bits.
  const ConvOutputs a = run_conv2d(strided, d, follows, /*relu=*/true);
  const ConvOutputs b = run_conv2d(strided, d, reference, /*relu=*/true);
  EXPECT_EQ(a.y, b.y);
  EXPECT_EQ(a.dx, b.dx);
  EXPECT_EQ(a.dk, b.dk);
  EXPECT_EQ(a.db, b.db);
  // Winograd cannot do stride 2: the follower raises, the im2col workspace does not.
  set_conv_algorithm("winograd");
  EXPECT_THROW(run_conv2d(strided, d, follows), ValueError);
  EXPECT_NO_THROW(run_conv2d(strided, d, im2col));
}

TEST(ConvAlgorithmChoice, ForcedWinogradOnAConvolutionItCannotComputeNamesItAndTheSizes) {
  std::mt19937 rng(32);
  const Config strided{1, 6, 6, 8, 3, 3, 2, 2, 1, 1, 1, 8, true, true, 0};
  const Config five{1, 6, 6, 8, 5, 5, 1, 1, 1, 1, 1, 8, true, true, 0};
  const Config thin{1, 6, 6, 3, 3, 3, 1, 1, 1, 1, 1, 8, true, true, 0};  // 3 input channels
  for (const Config& c : {strided, five, thin}) {
    const ConvData d = random_conv_data(c, rng);
    ops::Conv2DWorkspace ws = workspace_for(c, ops::ConvAlgorithm::kWinograd);
    const std::string kernel = "kernel (" + std::to_string(c.KH) + ", " + std::to_string(c.KW) + ")";
    const std::string strides = "strides (" + std::to_string(c.SH) + ", " + std::to_string(c.SW) + ")";
    const std::string input = "(N, H, W, C) = (1, 6, 6, " + std::to_string(c.C) + ")";
    std::vector<float> y(d.dy.size()), dx(d.x.size());
    EXPECT_TRUE(ThrowsWith<ValueError>(
        [&] { ops::conv2d_forward(d.x.data(), d.k.data(), nullptr, c.geometry(), 1, 8, y.data(), ws); },
        {"conv2d_forward", "algorithm \"winograd\" cannot compute", "3x3 kernel, stride 1", input, kernel, strides,
         "8 filters", "1 groups", "\"im2col\""}))
        << c.str();
    EXPECT_TRUE(ThrowsWith<ValueError>(
        [&] {
          ops::conv2d_backward(d.x.data(), d.k.data(), d.dy.data(), c.geometry(), 1, 8, dx.data(), nullptr, nullptr,
                               ws);
        },
        {"conv2d_backward", "algorithm \"winograd\"", kernel, strides}))
        << c.str();
  }
}

TEST(ConvAlgorithmChoice, ForcedDirectNamesItAndTheSizesAndItsBackwardIsIm2cols) {
  std::mt19937 rng(33);
  const Config grouped{1, 6, 6, 2, 3, 3, 1, 1, 1, 1, 2, 4, true, false, 0};
  const Config wide{1, 6, 6, 8, 3, 3, 1, 1, 2, 2, 1, 4, true, false, 0};  // 72 taps
  for (const Config& c : {grouped, wide}) {
    const ConvData d = random_conv_data(c, rng);
    ops::Conv2DWorkspace ws = workspace_for(c, ops::ConvAlgorithm::kDirect);
    std::vector<float> y(d.dy.size());
    EXPECT_TRUE(ThrowsWith<ValueError>(
        [&] { ops::conv2d_forward(d.x.data(), d.k.data(), nullptr, c.geometry(), c.G, c.OC, y.data(), ws); },
        {"conv2d_forward", "algorithm \"direct\" cannot compute", "one group", "dilation (" + std::to_string(c.DH),
         std::to_string(c.G) + " groups"}))
        << c.str();
    // The backward of kDirect is im2col's: it computes every convolution.
    std::vector<float> dx(d.x.size()), dk(d.k.size());
    ops::conv2d_backward(d.x.data(), d.k.data(), d.dy.data(), c.geometry(), c.G, c.OC, dx.data(), dk.data(), nullptr,
                         ws);
    const auto want = reference_backward(c, d.x, d.k, d.dy);
    EXPECT_TRUE(close(dx, want.dx, 1e-5)) << c.str();
    EXPECT_TRUE(close(dk, want.dkernel, 1e-5)) << c.str();
  }
}

// kReference through ops::conv2d on strides, dilation, groups, both paddings,
// pointwise and a batch of one, with and without the fused relu.
TEST(ConvAlgorithmReference, MatchesTheReferenceDefinition) {
  std::mt19937 rng(34);
  const Config cases[] = {{2, 7, 6, 3, 3, 3, 2, 2, 1, 1, 1, 4, true, true, 0},
                          {2, 9, 8, 4, 3, 2, 1, 1, 2, 3, 2, 6, false, true, 0},
                          {1, 5, 5, 6, 1, 1, 1, 1, 1, 1, 3, 3, false, false, 0},
                          {3, 6, 7, 8, 5, 3, 3, 1, 1, 1, 4, 8, true, true, 0},
                          {2, 2, 3, 3, 5, 4, 1, 1, 1, 1, 1, 2, true, true, 0}};
  for (const Config& c : cases)
    for (bool relu : {false, true}) {
      const ConvData d = random_conv_data(c, rng);
      ops::Conv2DWorkspace ws = workspace_for(c, ops::ConvAlgorithm::kReference);
      const ConvOutputs o = run_conv2d(c, d, ws, relu);
      std::vector<double> want_y = reference_forward(c, d.x, d.k, c.bias_of(d.b));
      std::vector<float> dy = d.dy;
      if (relu) {
        const ReluReference r = with_relu(want_y, d.dy);
        want_y = r.y, dy = r.masked_dy;
      }
      const std::string what = c.str() + (relu ? " relu" : "");
      ASSERT_TRUE(close(o.y, want_y, 1e-6)) << what;
      ASSERT_TRUE(gradients_match(o, reference_backward(c, d.x, d.k, dy), 1e-6, false, what));
    }
}

// A hand-made geometry whose padding is neither "same" nor "valid" (as a
// transposed convolution's can be): kReference agrees with im2col.
TEST(ConvAlgorithmReference, TakesTheGeometrysOwnPadding) {
  std::mt19937 rng(35);
  ops::Conv2DGeometry g = ops::make_conv_geometry(2, 6, 5, 3, 3, 3, 2, 1, 1, 1, false);
  g.pad_top = 2, g.pad_bottom = 0, g.pad_left = 0, g.pad_right = 1;
  g.OH = (g.H + 2 - 3) / 2 + 1, g.OW = g.W + 1 - 3 + 1;
  const int64_t OC = 4;
  const auto x = random_floats(g.N * g.H * g.W * g.C, rng), k = random_floats(9 * g.C * OC, rng);
  const auto b = random_floats(OC, rng), dy = random_floats(g.N * g.OH * g.OW * OC, rng);
  auto run = [&](ops::ConvAlgorithm a) {
    ops::Conv2DWorkspace ws;
    ws.set_algorithm(a);
    ConvOutputs o{std::vector<float>(dy.size()), std::vector<float>(x.size()), std::vector<float>(k.size()),
                  std::vector<float>(OC)};
    ops::conv2d_forward(x.data(), k.data(), b.data(), g, 1, OC, o.y.data(), ws);
    ops::conv2d_backward(x.data(), k.data(), dy.data(), g, 1, OC, o.dx.data(), o.dk.data(), o.db.data(), ws);
    return o;
  };
  const ConvOutputs ref = run(ops::ConvAlgorithm::kReference), im2col = run(ops::ConvAlgorithm::kIm2col);
  auto as_double = [](const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); };
  EXPECT_TRUE(close(im2col.y, as_double(ref.y), 1e-5));
  EXPECT_TRUE(close(im2col.dx, as_double(ref.dx), 1e-5));
  EXPECT_TRUE(close(im2col.dk, as_double(ref.dk), 1e-5));
  EXPECT_TRUE(close(im2col.db, as_double(ref.db), 1e-5));
}
