// layers/base/input_layer.h — where a graph starts: InputLayer and Input().
//
//   KerasTensor x = Input({28, 28, 1});               // (None, 28, 28, 1), layer "input_1"
//   KerasTensor y = Input({10}, {.batch_size = 32});  // (32, 10)
//
// Input() creates an InputLayer whose single node has no inbound layers; its
// output is the returned tensor. Like Keras 2, default names count from 1
// ("input_1", "input_2", ...).
#pragma once

#include "layers/base/layer.h"

namespace minidl {

class InputLayerImpl : public Layer {
 public:
  struct Options {
    std::optional<int64_t> batch_size{};
    std::string name{};
    std::string dtype = "float32";
    bool sparse = false;  // accepted for config compatibility; must be false
    bool ragged = false;  // likewise
  };
  // batch_input_shape includes the batch axis (kNone for unknown).
  InputLayerImpl(const Shape& batch_input_shape, const Options& options);

  std::string class_name() const override { return "InputLayer"; }
  json get_config() const override;
  static std::shared_ptr<InputLayerImpl> from_config(const json& config);

  // Creates node 0; called once by Input() / from_config.
  KerasTensor make_input_tensor();

 protected:
  VariableList call(const std::vector<Variable>& inputs, const CallArgs& args) override;
  std::vector<Shape> compute_output_shape(const std::vector<Shape>& input_shapes) override;
};

struct InputOptions {
  std::optional<int64_t> batch_size{};
  std::string name{};
  std::string dtype = "float32";
};

// A symbolic input of shape (batch_size or None, *shape).
KerasTensor Input(const Shape& shape, const InputOptions& options = {});

}  // namespace minidl
