// io/keras_weights_k3.cpp — the Keras 3 weights layout (`.weights.h5`, and model.weights.h5 inside `.keras`):
//   vars                          (the model's own variables; attr name)
//   layers/<key>/vars/0, 1, ...   (each layer's own variables; attr name = layer name)
//   layers/<key>/layers/...       (a nested model's layers)
//   optimizer/vars/0, 1, ...      (a compiled model's optimizer; keras_optimizer_weights.cpp)
// <key> is not the layer name but the snake-cased class name made unique in model.layers
// order ("conv2d", "conv2d_1", "dense"), which is what Keras 3's saving_lib walks.
// Keras 3's operations (x + 3: keras.src.ops.numpy.Add) are not layers of a Functional model, so they
// have no key and take none from a layer of the same class name.
// tf.keras 2.13 wrote `_layer_checkpoint_dependencies` where Keras 3 writes `layers`.
#include <algorithm>
#include <map>
#include <optional>
#include <regex>

#include "core/errors.h"
#include "io/keras_internal.h"
#include "layers/base/functional.h"
#include "layers/base/positional_args.h"

namespace minidl::keras_io {
namespace {

// False for an operation, which Keras 3's model.layers leaves out.
bool listed_in_keras3(const Layer& l) { return dynamic_cast<const PositionalArgsLayer*>(&l) == nullptr; }

std::string unique_key(const std::string& base, std::map<std::string, int>& used) {
  auto it = used.find(base);
  if (it == used.end()) {
    used[base] = 0;
    return base;
  }
  return fmt::format("{}_{}", base, ++it->second);
}


// The vars group of `path`, trying the tf.keras 2.13 spelling too; nullopt when absent.
std::optional<h5::Group> vars_group(const h5::Group& root, const std::string& path) {
  for (std::string p : {path, std::regex_replace(path, std::regex("(^|/)layers/"), "$1_layer_checkpoint_dependencies/")})
    if (root.is_group(p + "/vars")) return root.open_group(p + "/vars");
  return std::nullopt;
}

class Planner {
 public:
  Planner(const h5::Group& root, const LoadOptions& o) : root_(root), options_(o) {}

  void layers(const std::vector<LayerPtr>& list, const std::string& base, std::vector<Assignment>& out) {
    std::map<std::string, int> used;
    for (const auto& l : list)
      if (listed_in_keras3(*l)) layer(*l, base + "/" + unique_key(keras3_snake_case(l->class_name()), used), out);
  }

  void layer(const Layer& l, const std::string& path, std::vector<Assignment>& out) {
    own(l, path, out);
    if (const auto* f = dynamic_cast<const FunctionalImpl*>(&l)) layers(f->layers(), path + "/layers", out);
  }

 private:
  void own(const Layer& l, const std::string& path, std::vector<Assignment>& out) {
    const std::vector<WeightSlot> slots = keras3_own_slots(l);
    const auto vars = vars_group(root_, path);
    if (!vars) {
      if (slots.empty()) return;
      raise<ValueError>("{}: /{}/vars: missing; {} has {} weight(s)", root_.file_name(), path, layer_label(l),
                        slots.size());
    }
    const std::vector<std::string> names = keras3_numbered_vars(*vars);
    if (names.size() != slots.size())
      raise<ValueError>("{}: {}: {} has {} weight(s), the file has {} variable(s)", vars->file_name(), vars->path(),
                        layer_label(l), slots.size(), names.size());
    for (size_t i = 0; i < slots.size(); ++i) {
      const h5::Dataset d = vars->open_dataset(names[i]);
      const Shape& want = slots[i].variable.shape();
      // Keras assigns any stored number type to the variable (Normalization's `count` is an
      // integer in Keras's files), so integer datasets are read and converted too.
      const bool numeric = d.type_class() == h5::TypeClass::kFloat || d.type_class() == h5::TypeClass::kInteger;
      if (!numeric || d.shape() != want)
        raise<ValueError>("{}: {}: weight '{}' of {} expects a numeric dataset of shape {}, the file has {} of shape {}",
                          d.file_name(), d.path(), slots[i].full_name, layer_label(l), shape_str(want), d.type_name(),
                          shape_str(d.shape()));
      out.push_back({slots[i].variable, d.read_tensor()});
    }
  }

  const h5::Group& root_;
  LoadOptions options_;
};

void write_layers(const std::vector<LayerPtr>& list, const h5::Group& root, const std::string& base) {
  std::map<std::string, int> used;
  for (const auto& l : list) {
    if (!listed_in_keras3(*l)) continue;
    const std::string path = base + "/" + unique_key(keras3_snake_case(l->class_name()), used);
    const h5::Group vars = root.create_group(path + "/vars");
    vars.write_string_attr("name", l->name());
    const auto slots = keras3_own_slots(*l);
    for (size_t i = 0; i < slots.size(); ++i) vars.write_tensor(std::to_string(i), slots[i].variable.value());
    if (const auto* f = dynamic_cast<const FunctionalImpl*>(l.get())) write_layers(f->layers(), root, path + "/layers");
  }
}

}  // namespace

std::vector<std::string> keras3_numbered_vars(const h5::Group& vars) {
  std::vector<std::pair<int64_t, std::string>> found;
  for (const auto& n : vars.children()) {
    if (!vars.is_dataset(n)) continue;
    if (n.empty() || n.size() > 9 || !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
      raise<ValueError>("{}: {}/{}: expected variables named 0, 1, 2, ...", vars.file_name(), vars.path(), n);
    found.emplace_back(std::stoll(n), n);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(f.second);
  return out;
}

std::string keras3_snake_case(const std::string& class_name) {
  static const std::regex non_word("[^A-Za-z0-9_]+");
  static const std::regex word("(.)([A-Z][a-z]+)");
  static const std::regex lower_upper("([a-z])([A-Z])");
  std::string s = std::regex_replace(class_name, non_word, "");
  s = std::regex_replace(std::regex_replace(s, word, "$1_$2"), lower_upper, "$1_$2");
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<Assignment> plan_keras3_weights(const ModelImpl& model, const h5::Group& root, const LoadOptions& options) {
  std::vector<Assignment> out;
  Planner planner(root, options);
  if (!options.by_name) {
    planner.layers(model.layers(), "layers", out);
    return out;
  }
  // By name: each top-level vars group records its layer's name.
  std::map<std::string, std::string> by_name;
  for (const char* base : {"layers", "_layer_checkpoint_dependencies"}) {
    if (!root.is_group(base)) continue;
    for (const auto& key : root.open_group(base).children()) {
      const std::string vars = std::string(base) + "/" + key + "/vars";
      if (root.is_group(vars) && root.open_group(vars).has_attr("name"))
        by_name.emplace(root.open_group(vars).read_string_attr("name"), std::string("layers/") + key);
    }
  }
  for (const auto& l : model.layers()) {
    auto it = by_name.find(l->name());
    if (it == by_name.end()) continue;
    plan_layer_by_name(*l, options, out, [&](std::vector<Assignment>& planned) {
      planner.layer(*l, it->second, planned);
    });
  }
  return out;
}

void write_keras3_weights(const ModelImpl& model, const h5::Group& root) {
  root.create_group("vars").write_string_attr("name", model.name());
  if (!model.layers().empty()) write_layers(model.layers(), root, "layers");
  if (model.compiled()) write_keras3_optimizer_vars(model, root);
}

}  // namespace minidl::keras_io
