// tests/io/nested_sequential_io_test.cpp — a small ConvNeXt-like model as Keras 3.15 writes it
// (tests/io/nested_sequential_files.h): a Functional whose stem and downsampling block are nested Sequential
// models (as keras/src/applications/convnext.py builds them), a block of DepthwiseConv2D 7x7,
// LayerNormalization, Dense on 4-D, gelu, Dense, LayerScale and the residual `inputs + x` (a
// keras.src.ops.numpy.Add of two tensors), then the head. minidl must load both layouts and predict what a
// naive double-precision forward pass and the same network built with the C++ API give, and write the
// nested models back as Keras 3.15 lays them out.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <map>

#include "io/hdf5.h"
#include "io/keras_internal.h"
#include "io/keras_model.h"
#include "io/zip.h"
#include "layers/activations/activation_layers.h"
#include "layers/base/input_layer.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/depthwise_conv2d.h"
#include "layers/core/dense.h"
#include "layers/merge/operation_layers.h"
#include "layers/normalization/layer_normalization.h"
#include "layers/normalization/layer_scale.h"
#include "layers/pooling/global_pooling2d.h"
#include "nested_sequential_files.h"
#include "support/assertions.h"
#include "support/files.h"
#include "support/tensors.h"
#include "train/model.h"

namespace minidl {
namespace {

using json = nlohmann::json;
using namespace testing;
using namespace testing::convnext_like;

// --- the same network through the C++ API ---------------------------------------------------------

std::shared_ptr<ModelImpl> api_model() {
  reset_layer_names();
  KerasTensor in = Input({kSide, kSide, 3}, {.name = "input_layer"});
  auto stem = std::make_shared<SequentialImpl>(
      std::vector<LayerPtr>{Conv2D(kDim, 4, {.strides = 4, .name = "convnext_stem_conv"}),
                            LayerNormalization({.epsilon = 1e-6, .name = "convnext_stem_layernorm"})},
      "convnext_stem");
  KerasTensor x = (*stem)(in);
  KerasTensor b = DepthwiseConv2D(7, {.padding = "same", .name = "block_depthwise_conv"})(x);
  b = LayerNormalization({.epsilon = 1e-6, .name = "block_layernorm"})(b);
  b = Dense(4 * kDim, {.name = "block_pointwise_conv_1"})(b);
  b = ActivationLayer("gelu", {.name = "block_gelu"})(b);
  b = Dense(kDim, {.name = "block_pointwise_conv_2"})(b);
  b = LayerScale(1e-6, kDim, {.name = "block_layer_scale"})(b);
  b = ActivationLayer("linear", {.name = "block_identity"})(b);
  x = keras_ops::add(x, b);
  auto down = std::make_shared<SequentialImpl>(
      std::vector<LayerPtr>{LayerNormalization({.epsilon = 1e-6, .name = "convnext_downsampling_layernorm_0"}),
                            Conv2D(kWide, 2, {.strides = 2, .name = "convnext_downsampling_conv_0"})},
      "convnext_downsampling_block_0");
  x = (*down)(x);
  x = GlobalAveragePooling2D({.name = "head_gap"})(x);
  x = LayerNormalization({.epsilon = 1e-6, .name = "head_layernorm"})(x);
  x = Dense(kClasses, {.activation = "softmax", .name = "head_dense"})(x);
  auto m = Model(in, x, "convnext_like").ptr();
  std::vector<Tensor> ws;
  for (const auto& l : layout()) {
    for (const auto& k : l.weights) ws.push_back(weights()[k]);
    for (const auto& sub : l.inner)
      for (const auto& k : sub.weights) ws.push_back(weights()[k]);
  }
  m->set_weights(ws);
  return m;
}

// --- a naive double-precision forward pass -----------------------------------------------------

// An image as [h][w][c] in one vector.
struct Image {
  int64_t h, w, c;
  std::vector<double> v;
  double& at(int64_t y, int64_t x, int64_t ch) { return v[static_cast<size_t>((y * w + x) * c + ch)]; }
  double at(int64_t y, int64_t x, int64_t ch) const { return v[static_cast<size_t>((y * w + x) * c + ch)]; }
};

Image blank(int64_t h, int64_t w, int64_t c) { return {h, w, c, std::vector<double>(static_cast<size_t>(h * w * c), 0.0)}; }

double wt(const std::string& k, int64_t i) { return weights()[k][i]; }

// Valid convolution with a square k x k kernel (HWIO) and stride k.
Image conv_stride_k(const Image& x, const std::string& kernel, const std::string& bias, int64_t k, int64_t out_c) {
  Image y = blank(x.h / k, x.w / k, out_c);
  for (int64_t i = 0; i < y.h; ++i)
    for (int64_t j = 0; j < y.w; ++j)
      for (int64_t o = 0; o < out_c; ++o) {
        double s = wt(bias, o);
        for (int64_t a = 0; a < k; ++a)
          for (int64_t b = 0; b < k; ++b)
            for (int64_t c = 0; c < x.c; ++c)
              s += x.at(i * k + a, j * k + b, c) * wt(kernel, ((a * k + b) * x.c + c) * out_c + o);
        y.at(i, j, o) = s;
      }
  return y;
}

// LayerNormalization over the last axis, epsilon 1e-6.
std::vector<double> layer_norm_vec(const std::vector<double>& x, size_t off, size_t n, const std::string& g,
                                   const std::string& b) {
  double mean = 0, var = 0;
  for (size_t i = 0; i < n; ++i) mean += x[off + i];
  mean /= static_cast<double>(n);
  for (size_t i = 0; i < n; ++i) var += (x[off + i] - mean) * (x[off + i] - mean);
  var /= static_cast<double>(n);
  std::vector<double> out(n);
  for (size_t i = 0; i < n; ++i)
    out[i] = (x[off + i] - mean) / std::sqrt(var + 1e-6) * wt(g, static_cast<int64_t>(i)) + wt(b, static_cast<int64_t>(i));
  return out;
}

Image layer_norm(const Image& x, const std::string& g, const std::string& b) {
  Image y = x;
  const size_t n = static_cast<size_t>(x.c);
  for (size_t p = 0; p < static_cast<size_t>(x.h * x.w); ++p) {
    const auto v = layer_norm_vec(x.v, p * n, n, g, b);
    std::copy(v.begin(), v.end(), y.v.begin() + static_cast<std::ptrdiff_t>(p * n));
  }
  return y;
}

Image pointwise(const Image& x, const std::string& kernel, const std::string& bias, int64_t out_c) {
  Image y = blank(x.h, x.w, out_c);
  for (int64_t i = 0; i < x.h; ++i)
    for (int64_t j = 0; j < x.w; ++j)
      for (int64_t o = 0; o < out_c; ++o) {
        double s = wt(bias, o);
        for (int64_t c = 0; c < x.c; ++c) s += x.at(i, j, c) * wt(kernel, c * out_c + o);
        y.at(i, j, o) = s;
      }
  return y;
}

std::vector<double> naive_forward(const Tensor& input, int64_t n) {
  Image x = blank(kSide, kSide, 3);
  for (size_t i = 0; i < x.v.size(); ++i) x.v[i] = input[n * kSide * kSide * 3 + static_cast<int64_t>(i)];
  Image s = layer_norm(conv_stride_k(x, "stem_kernel", "stem_bias", 4, kDim), "stem_gamma", "stem_beta");
  // Depthwise 7x7, "same": 3 cells of zeros on every side.
  Image d = blank(s.h, s.w, kDim);
  for (int64_t i = 0; i < s.h; ++i)
    for (int64_t j = 0; j < s.w; ++j)
      for (int64_t c = 0; c < kDim; ++c) {
        double acc = wt("dw_bias", c);
        for (int64_t a = 0; a < 7; ++a)
          for (int64_t b = 0; b < 7; ++b) {
            const int64_t y = i + a - 3, xx = j + b - 3;
            if (y >= 0 && y < s.h && xx >= 0 && xx < s.w) acc += s.at(y, xx, c) * wt("dw_kernel", (a * 7 + b) * kDim + c);
          }
        d.at(i, j, c) = acc;
      }
  Image h = pointwise(layer_norm(d, "ln_gamma", "ln_beta"), "pw1_kernel", "pw1_bias", 4 * kDim);
  for (double& v : h.v) v = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
  Image r = pointwise(h, "pw2_kernel", "pw2_bias", kDim);
  for (size_t i = 0; i < r.v.size(); ++i) r.v[i] = s.v[i] + r.v[i] * wt("scale_gamma", static_cast<int64_t>(i % kDim));
  Image t = conv_stride_k(layer_norm(r, "ds_gamma", "ds_beta"), "ds_kernel", "ds_bias", 2, kWide);
  std::vector<double> pooled(kWide, 0.0);
  for (int64_t p = 0; p < t.h * t.w; ++p)
    for (int64_t c = 0; c < kWide; ++c) pooled[static_cast<size_t>(c)] += t.v[static_cast<size_t>(p * kWide + c)] / double(t.h * t.w);
  const auto z = layer_norm_vec(pooled, 0, kWide, "head_gamma", "head_beta");
  std::vector<double> logits(kClasses);
  double mx = -1e300, sum = 0;
  for (int64_t o = 0; o < kClasses; ++o) {
    double v = wt("head_bias", o);
    for (int64_t c = 0; c < kWide; ++c) v += z[static_cast<size_t>(c)] * wt("head_kernel", c * kClasses + o);
    logits[static_cast<size_t>(o)] = v;
    mx = std::max(mx, v);
  }
  for (double& v : logits) sum += (v = std::exp(v - mx));
  for (double& v : logits) v /= sum;
  return logits;
}

Tensor sample_input() { return random_tensor({kBatch, kSide, kSide, 3}, 7); }

void expect_matches_naive(const Tensor& got) {
  ASSERT_EQ(got.shape(), (Shape{kBatch, kClasses}));
  const Tensor x = sample_input();
  for (int64_t n = 0; n < kBatch; ++n) {
    const auto want = naive_forward(x, n);
    for (int64_t o = 0; o < kClasses; ++o) EXPECT_NEAR(got[n * kClasses + o], want[static_cast<size_t>(o)], 2e-5) << n << "," << o;
  }
}

TEST(NestedSequentialIo, CppModelMatchesNaiveForward) {
  auto m = api_model();
  expect_matches_naive(m->predict(sample_input()));
}

TEST(NestedSequentialIo, Keras3ArchiveLoadsAndPredicts) {
  auto m = load_model(write_keras_file());
  ASSERT_EQ(m->get_layer("convnext_stem")->class_name(), "Sequential");
  const Tensor got = m->predict(sample_input());
  expect_matches_naive(got);
  EXPECT_TRUE(AllClose(got, api_model()->predict(sample_input()), 1e-6, 1e-5));
}

TEST(NestedSequentialIo, Keras3LegacyH5LoadsAndPredicts) {
  auto m = load_model(write_h5_file());
  ASSERT_EQ(m->get_layer("convnext_downsampling_block_0")->class_name(), "Sequential");
  const Tensor got = m->predict(sample_input());
  expect_matches_naive(got);
  EXPECT_TRUE(AllClose(got, api_model()->predict(sample_input()), 1e-6, 1e-5));
}

// minidl's `.keras` of the loaded model lays out the nested Sequential models as Keras 3.15 does: the
// InputLayer first in their config, build_input_shape, their layers' variables under their own keys,
// operations without a key; both layouts load back to the same predictions.
TEST(NestedSequentialIo, SavedFilesKeepKeras3NestedLayout) {
  auto m = load_model(write_keras_file());
  const std::string kpath = fresh_path("resaved.keras"), hpath = fresh_path("resaved.h5");
  m->save(kpath);
  m->save(hpath);
  const ZipReader zip(kpath);
  const Bytes text = zip.read("config.json", int64_t{1} << 26);
  const json cfg = json::parse(std::string(text.begin(), text.end()));
  const json want = model_config(true)["config"]["layers"];
  int sequentials = 0;
  for (const auto& e : cfg["config"]["layers"]) {
    if (e["class_name"] != "Sequential") continue;
    ++sequentials;
    EXPECT_EQ(e["module"], "keras");
    const json& c = e["config"];
    json expected;
    for (const auto& w : want)
      if (w["name"] == e["name"]) expected = w["config"];
    ASSERT_TRUE(expected.is_object()) << e["name"];
    EXPECT_EQ(c["build_input_shape"], expected["build_input_shape"]);
    ASSERT_EQ(c["layers"].size(), 3u);
    EXPECT_EQ(c["layers"][0]["class_name"], "InputLayer");
    EXPECT_EQ(c["layers"][0]["config"]["batch_shape"], expected["build_input_shape"]);
    for (size_t i = 1; i < 3; ++i) {
      EXPECT_EQ(c["layers"][i]["config"]["name"], expected["layers"][i]["config"]["name"]);
      EXPECT_EQ(c["layers"][i]["module"], "keras.layers");
    }
  }
  EXPECT_EQ(sequentials, 2);
  const h5::H5File w = h5::H5File::open_from_memory(zip.read("model.weights.h5", int64_t{1} << 26), "w");
  EXPECT_EQ(w.root().open_dataset("layers/sequential/layers/conv2d/vars/0").shape(), (Shape{4, 4, 3, kDim}));
  EXPECT_EQ(w.root().open_group("layers/sequential_1/layers/layer_normalization/vars").read_string_attr("name"),
            "convnext_downsampling_layernorm_0");
  EXPECT_EQ(w.root().open_dataset("layers/layer_scale/vars/0").shape(), (Shape{kDim}));
  EXPECT_FALSE(w.root().exists("layers/add"));  // an operation, not one of Keras's model.layers
  const Tensor x = sample_input(), want_y = m->predict(x);
  EXPECT_TRUE(AllClose(load_model(kpath)->predict(x), want_y, 1e-7, 1e-6));
  EXPECT_TRUE(AllClose(load_model(hpath)->predict(x), want_y, 1e-7, 1e-6));
}

// A nested Functional model in a Keras 3 config: inbound nodes name its first call 0, output_layers
// count its own node first (["inner", 1, 0]), as models/functional.py get_config writes them.
json nested_functional_config() {
  const Writer w{true};
  auto input = [&](const std::string& name) {
    json e = w.entry("keras.layers", "InputLayer", input_layer(name, shape_of({4})), nullptr);
    e["name"] = name;
    e["inbound_nodes"] = json::array();
    return e;
  };
  auto dense_entry = [&](const std::string& name, int64_t units, const std::string& from) {
    json e = w.layer("Dense", dense(name, units, "linear"), shape_of({4}));
    e["name"] = name;
    e["inbound_nodes"] = {call({keras_tensor(from, shape_of({4}))})};
    return e;
  };
  json inner_cfg = {{"name", "inner"}, {"trainable", true}, {"layers", {input("inner_in"), dense_entry("inner_dense", 4, "inner_in")}},
                    {"input_layers", {"inner_in", 0, 0}}, {"output_layers", {"inner_dense", 0, 0}}};
  json inner = {{"module", "keras.src.models.functional"}, {"class_name", "Functional"}, {"config", inner_cfg},
                {"registered_name", "Functional"}, {"name", "inner"}, {"inbound_nodes", {call({keras_tensor("x", shape_of({4}))})}}};
  json cfg = {{"name", "outer"}, {"trainable", true}, {"layers", {input("x"), inner, dense_entry("head", 2, "inner")}},
              {"input_layers", {"x", 0, 0}}, {"output_layers", {{"head", 0, 0}, {"inner", 1, 0}}}};
  return {{"module", "keras.src.models.functional"}, {"class_name", "Functional"}, {"config", cfg},
          {"registered_name", "Functional"}};
}

TEST(NestedSequentialIo, Keras3NestedFunctionalNodeIndices) {
  auto m = model_from_json(nested_functional_config().dump());
  const Tensor x = random_tensor({3, 4}, 5);
  m->set_weights({random_tensor({4, 4}, 1), random_tensor({4}, 2), random_tensor({4, 2}, 3), random_tensor({2}, 4)});
  const auto ws = m->get_weights();
  const auto y = m->predict(std::vector<Tensor>{x});
  ASSERT_EQ(y.size(), 2u);
  for (int64_t n = 0; n < 3; ++n) {
    std::vector<double> h(4);
    for (int64_t j = 0; j < 4; ++j) {
      h[j] = ws[1][j];
      for (int64_t i = 0; i < 4; ++i) h[j] += double(x[n * 4 + i]) * ws[0][i * 4 + j];
      EXPECT_NEAR(y[1][n * 4 + j], h[j], 1e-5);
    }
    for (int64_t o = 0; o < 2; ++o) {
      double v = ws[3][o];
      for (int64_t j = 0; j < 4; ++j) v += h[j] * ws[2][j * 2 + o];
      EXPECT_NEAR(y[0][n * 2 + o], v, 1e-5);
    }
  }
  // minidl's .keras names them the same way, and reads itself back.
  const std::string path = fresh_path("nested_functional.keras");
  m->save(path);
  const Bytes text = ZipReader(path).read("config.json", int64_t{1} << 26);
  const json cfg = json::parse(std::string(text.begin(), text.end()))["config"];
  EXPECT_EQ(cfg["output_layers"][1], json({"inner", 1, 0}));
  for (const auto& e : cfg["layers"])
    if (e["name"] == "head") EXPECT_EQ(e["inbound_nodes"][0]["args"][0]["config"]["keras_history"], json({"inner", 0, 0}));
  const auto back = load_model(path)->predict(std::vector<Tensor>{x});
  EXPECT_TRUE(AllClose(back[0], y[0], 1e-7, 1e-6));
  EXPECT_TRUE(AllClose(back[1], y[1], 1e-7, 1e-6));
}

}  // namespace
}  // namespace minidl
