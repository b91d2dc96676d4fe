// tests/support/toy_layers.h — tiny layers used to test the Layer/Model
// machinery without depending on any real layer.
#pragma once

#include <nlohmann/json.hpp>

#include "autograd/functions.h"
#include "layers/base/layer.h"
#include "layers/base/registry.h"

namespace minidl::testing {

// y = x * scale, scale of shape (last_dim,), initialised to ones. Optional weight regularizer.
class ScaleImpl : public Layer {
 public:
  explicit ScaleImpl(LayerOptions o = {}, RegularizerArg reg = {}) : Layer(std::move(o), "scale"), reg_(reg) {}
  std::string class_name() const override { return "TestScale"; }
  json get_config() const override { return base_config(); }

 protected:
  void build(const std::vector<Shape>& shapes) override {
    add_weight("scale", {single_shape(shapes).back()}, "ones", reg_);
  }
  VariableList call(const std::vector<Variable>& in, const CallArgs&) override {
    return {single_input(in) * own_weights()[0].variable};
  }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& s) override { return {single_shape(s)}; }

 private:
  RegularizerArg reg_;
};

// Sums any number of same-shaped inputs; supports masking (ANDs nothing: passes first mask).
class PairSumImpl : public Layer {
 public:
  using Layer::compute_mask;  // the public compute_mask(inputs, mask) forms, next to this class's hook
  explicit PairSumImpl(LayerOptions o = {}) : Layer(std::move(o), "pair_sum") { set_supports_masking(true); }
  std::string class_name() const override { return "TestPairSum"; }

 protected:
  VariableList call(const std::vector<Variable>& in, const CallArgs&) override {
    Variable acc = in[0];
    for (size_t i = 1; i < in.size(); ++i) acc = acc + in[i];
    return {acc};
  }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& s) override { return {s[0]}; }
  std::vector<Tensor> compute_mask(const std::vector<Variable>&, const std::vector<Tensor>& masks) override {
    return {masks.empty() ? Tensor() : masks[0]};
  }
  std::vector<std::optional<Shape>> compute_mask_shape(const std::vector<Shape>&,
                                                       const std::vector<std::optional<Shape>>& m) override {
    return {m.empty() ? std::nullopt : m[0]};
  }
};

// Identity that emits a mask: 1 where any feature of the last axis is non-zero.
class MaskEmitterImpl : public Layer {
 public:
  using Layer::compute_mask;  // the public compute_mask(inputs, mask) forms, next to this class's hook
  explicit MaskEmitterImpl(LayerOptions o = {}) : Layer(std::move(o), "mask_emitter") { set_supports_masking(true); }
  std::string class_name() const override { return "TestMaskEmitter"; }

 protected:
  VariableList call(const std::vector<Variable>& in, const CallArgs&) override { return {in.begin(), in.end()}; }
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& s) override { return s; }
  std::vector<Tensor> compute_mask(const std::vector<Variable>& in, const std::vector<Tensor>&) override {
    const Tensor& x = in[0].value();
    const int64_t c = x.shape().back(), rows = x.numel() / c;
    Tensor m(Shape(x.shape().begin(), x.shape().end() - 1));
    for (int64_t r = 0; r < rows; ++r) {
      float any = 0;
      for (int64_t j = 0; j < c; ++j) any = x[r * c + j] != 0 ? 1.f : any;
      m[r] = any;
    }
    return {m};
  }
  std::vector<std::optional<Shape>> compute_mask_shape(const std::vector<Shape>& s,
                                                       const std::vector<std::optional<Shape>>&) override {
    return {Shape(s[0].begin(), s[0].end() - 1)};
  }
};

// A layer that refuses masks (the default behaviour).
class NoMaskImpl : public ScaleImpl {
 public:
  using ScaleImpl::ScaleImpl;
  std::string class_name() const override { return "TestNoMask"; }
};

inline void register_test_layers() {
  static bool done = false;
  if (done) return;
  done = true;
  LayerRegistry::instance().add("TestScale", [](const json& c) -> LayerPtr {
    return std::make_shared<ScaleImpl>(common_options_from_config(ConfigReader(c, "TestScale")));
  });
}

}  // namespace minidl::testing
