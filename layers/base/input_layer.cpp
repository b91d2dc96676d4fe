// layers/base/input_layer.cpp — InputLayer, its input node, and Input().
#include "layers/base/input_layer.h"

#include <nlohmann/json.hpp>

#include "layers/base/config_utils.h"
#include "layers/base/json_text.h"
#include "layers/base/registry.h"

namespace minidl {

static std::string input_default_name(const std::string& given) {
  // Keras 2 numbers inputs from 1: input_1, input_2, ... (backend.get_uid).
  return given.empty() ? unique_layer_name("input", /*zero_based=*/false) : given;
}

InputLayerImpl::InputLayerImpl(const Shape& batch_input_shape, const Options& o)
    : Layer(LayerOptions{.batch_input_shape = batch_input_shape, .dtype = o.dtype, .name = input_default_name(o.name)},
            "input") {
  MINIDL_CHECK(!o.sparse && !o.ragged, ValueError, "InputLayer '{}': sparse and ragged inputs are not supported",
               name());
  set_built(true);
}

KerasTensor InputLayerImpl::make_input_tensor() {
  MINIDL_CHECK(inbound_nodes().empty(), RuntimeError, "InputLayer '{}' already has its input tensor", name());
  // A node with no inputs: the start of a graph.
  auto spec = std::make_shared<TensorSpec>(TensorSpec{*batch_input_shape(), dtype(), name()});
  auto node = std::make_shared<Node>(this, std::vector<KerasTensor>{},
                                     std::vector<std::shared_ptr<const TensorSpec>>{spec},
                                     std::vector<std::shared_ptr<const TensorSpec>>{nullptr});
  node_history().add_inbound(node);
  return KerasTensor(spec, shared_from_this(), 0, 0);
}

VariableList InputLayerImpl::call(const std::vector<Variable>& inputs, const CallArgs&) { return {inputs.begin(), inputs.end()}; }

std::vector<Shape> InputLayerImpl::compute_output_shape(const std::vector<Shape>& input_shapes) {
  return input_shapes;
}

json InputLayerImpl::get_config() const {
  json c;
  c["batch_input_shape"] = shape_to_json(*batch_input_shape());
  c["dtype"] = dtype();
  c["sparse"] = false;
  c["ragged"] = false;
  c["name"] = name();
  return c;
}

std::shared_ptr<InputLayerImpl> InputLayerImpl::from_config(const json& c) {
  ConfigReader r(c, "InputLayer");
  Shape s;
  if (r.has("batch_input_shape")) {
    s = r.shape("batch_input_shape");
  } else if (r.has("batch_shape")) {  // Keras 3
    s = r.shape("batch_shape");
  } else if (r.has("input_shape")) {
    s = r.shape("input_shape");
    s.insert(s.begin(), kNone);
  } else {
    raise<ValueError>("InputLayer config needs 'batch_input_shape' (or Keras 3 'batch_shape'); received {}",
                      json_preview(c));
  }
  Options o;
  o.name = r.str("name", "");
  o.dtype = r.dtype();
  o.sparse = r.boolean("sparse", false);
  o.ragged = r.boolean("ragged", false);
  return std::make_shared<InputLayerImpl>(s, o);
}

KerasTensor Input(const Shape& shape, const InputOptions& o) {
  Shape s{o.batch_size.value_or(kNone)};
  s.insert(s.end(), shape.begin(), shape.end());
  auto layer = std::make_shared<InputLayerImpl>(s, InputLayerImpl::Options{o.batch_size, o.name, o.dtype});
  return layer->make_input_tensor();
}

MINIDL_REGISTER_LAYER("InputLayer", [](const json& c) -> LayerPtr { return InputLayerImpl::from_config(c); });

}  // namespace minidl
