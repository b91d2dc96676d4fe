// io/keras_optimizer_weights.cpp — optimizer state in the legacy full-model .h5: /optimizer_weights, as tf.keras 2.x
// (optimizer_v2) writes it and load_model_from_hdf5 reads it back. Keras's reader does
// optimizer._create_all_weights(model.trainable_variables) and then set_weights(values in
// weight_names order), so what matters to it is the order and the shapes:
//   [iter] (+ Nadam's momentum_cache) + for each slot kind, that slot of every trainable
//   weight, e.g. Adam: iter, m of every weight, v of every weight (vhat too with amsgrad).
// Dataset names follow the variables Keras creates under the optimizer's name scope:
// "Adam/iter:0", "Adam/conv2d/kernel/m:0".
#include <cmath>
#include <map>
#include <optional>
#include <utility>

#include "core/errors.h"
#include "core/logging.h"
#include "io/keras_internal.h"

namespace minidl::keras_io {
namespace {

struct OptimizerEntry {
  enum class Kind { kIterations, kMomentumCache, kSlot };
  Kind kind = Kind::kSlot;
  std::string name;        // "Adam/conv2d/kernel/m:0"
  std::string keras_name;  // "iter", "momentum_cache", "m"
  Variable param;          // kSlot: the trainable weight the slot belongs to
  int slot = -1;           // kSlot: index into OptimizerBase::slots_of(param)
};

bool config_flag(const json& c, const char* key) {
  if (!c.contains(key)) return false;
  const json& v = c[key];
  return (v.is_boolean() && v.get<bool>()) || (v.is_number() && v.get<double>() != 0);
}

// Keras's slot names for each built-in optimizer, in its _create_slots order, paired with
// the minidl slot holding the same quantity (the order update() reads them in
// train/optimizers.cpp). nullopt for an optimizer minidl does not know the Keras form of.
std::optional<std::vector<std::pair<std::string, int>>> keras_slots(const OptimizerBase& opt) {
  const std::string cls = opt.class_name();
  const json c = opt.get_config();
  using Slots = std::vector<std::pair<std::string, int>>;
  if (cls == "SGD") return config_flag(c, "momentum") ? Slots{{"momentum", 0}} : Slots{};
  if (cls == "Adam") {
    Slots s{{"m", 0}, {"v", 1}};
    if (config_flag(c, "amsgrad")) s.emplace_back("vhat", 2);
    return s;
  }
  if (cls == "RMSprop") {
    // minidl keeps all three buffers; Keras creates momentum / mg only when they are used.
    Slots s{{"rms", 0}};
    if (config_flag(c, "momentum")) s.emplace_back("momentum", 1);
    if (config_flag(c, "centered")) s.emplace_back("mg", 2);
    return s;
  }
  if (cls == "Adagrad") return Slots{{"accumulator", 0}};
  if (cls == "Adadelta") return Slots{{"accum_grad", 0}, {"accum_var", 1}};
  if (cls == "Adamax" || cls == "Nadam") return Slots{{"m", 0}, {"v", 1}};
  return std::nullopt;
}

// The model's optimizer weights in Keras's order, or nullopt when the optimizer is not a
// built-in one.
std::optional<std::vector<OptimizerEntry>> plan(const ModelImpl& model, OptimizerBase& opt) {
  const auto slots = keras_slots(opt);
  if (!slots) return std::nullopt;
  const json c = opt.get_config();
  const std::string prefix = c.contains("name") && c["name"].is_string() ? c["name"].get<std::string>() : opt.class_name();
  // A slot is named after its variable's shared name ("conv2d/kernel"), the weight name the
  // model_weights groups list without ":0".
  std::map<const void*, std::string> var_names;
  for (const auto& layer : model.layers())
    for (const WeightSlot& w : legacy_slots(*layer))
      var_names[w.variable.id()] = w.full_name.substr(0, w.full_name.rfind(':'));
  std::vector<OptimizerEntry> out;
  out.push_back({OptimizerEntry::Kind::kIterations, prefix + "/iter:0", "iter", Variable(), -1});
  if (dynamic_cast<const Nadam*>(&opt) != nullptr)
    out.push_back({OptimizerEntry::Kind::kMomentumCache, prefix + "/momentum_cache:0", "momentum_cache", Variable(), -1});
  const std::vector<Variable> params = model.trainable_weights();
  for (const auto& [slot_name, index] : *slots) {
    for (const Variable& p : params) {
      auto it = var_names.find(p.id());
      const std::string var = it != var_names.end() ? it->second : p.name();
      out.push_back({OptimizerEntry::Kind::kSlot, fmt::format("{}/{}/{}:0", prefix, var, slot_name), slot_name, p, index});
    }
  }
  return out;
}

// "Adam/conv2d/kernel/m:0" -> "m": the part Keras's own names and ours share.
std::string last_component(const std::string& name) {
  std::string s = name;
  const size_t colon = s.rfind(':');
  if (colon != std::string::npos && colon + 1 < s.size() &&
      s.find_first_not_of("0123456789", colon + 1) == std::string::npos)
    s.resize(colon);
  const size_t slash = s.rfind('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}

}  // namespace

void write_optimizer_weights(const ModelImpl& model, const h5::Group& root) {
  auto* opt = dynamic_cast<OptimizerBase*>(model.optimizer().get());
  // Keras creates its optimizer weights on the first step: an untrained model has none to save.
  if (opt == nullptr || opt->iterations() == 0) return;
  const auto entries = plan(model, *opt);
  if (!entries) {
    logger()->warn("model '{}': the state of optimizer {} is not saved (minidl writes Keras's optimizer_weights "
                   "for the built-in optimizers only)",
                   model.name(), opt->class_name());
    return;
  }
  std::vector<std::string> names;
  for (const auto& e : *entries) names.push_back(e.name);
  const h5::Group g = root.create_group("optimizer_weights");
  write_names_attr(g, "weight_names", names);
  for (const auto& e : *entries) {
    switch (e.kind) {
      case OptimizerEntry::Kind::kIterations:
        g.write_scalar(e.name, static_cast<double>(opt->iterations()), h5::DType::kInt64);
        break;
      case OptimizerEntry::Kind::kMomentumCache:
        // Keras's variable is float32; float64 keeps minidl's double product exact, so a resumed
        // run is bitwise the uninterrupted one (Keras casts it on set_weights).
        g.write_scalar(e.name, dynamic_cast<const Nadam&>(*opt).momentum_cache(), h5::DType::kFloat64);
        break;
      case OptimizerEntry::Kind::kSlot:
        g.write_tensor(e.name, opt->slots_of(e.param).at(static_cast<size_t>(e.slot)));
        break;
    }
  }
}

void restore_optimizer_weights(ModelImpl& model, const h5::Group& root, const std::string& path) {
  const std::string where = path + ": /optimizer_weights";
  auto skip = [&](const std::string& why) {
    logger()->warn("{}: {}; the optimizer starts from a fresh state", where, why);
  };
  auto* opt = dynamic_cast<OptimizerBase*>(model.optimizer().get());
  const auto entries = opt != nullptr ? plan(model, *opt) : std::nullopt;
  if (!entries) return skip("minidl restores the state of its built-in optimizers only");
  // Everything is read and checked before anything is set: a bad file changes nothing.
  int64_t iterations = 0;
  double momentum_cache = 1.0;
  std::vector<Tensor> values(entries->size());
  try {
    const h5::Group g = root.open_group("optimizer_weights");
    const std::vector<std::string> names = read_names_attr(g, "weight_names");
    if (names.size() != entries->size())
      return skip(fmt::format("the file holds {} optimizer weights, the model's {} has {} (iterations, then its "
                              "slots for {} trainable weights); the file was saved with another optimizer, "
                              "configuration or Keras version",
                              names.size(), opt->class_name(), entries->size(), model.trainable_weights().size()));
    for (size_t i = 0; i < names.size(); ++i) {
      const OptimizerEntry& e = (*entries)[i];
      if (last_component(names[i]) != e.keras_name)
        return skip(fmt::format("weight #{} is '{}', expected the '{}' weight '{}'", i, names[i], e.keras_name, e.name));
      const h5::Dataset d = g.open_dataset(names[i]);
      if (e.kind == OptimizerEntry::Kind::kSlot) {
        const Shape expected = e.param.value().shape();
        if (d.shape() != expected)
          return skip(fmt::format("'{}' has shape {}, the weight '{}' has {}", names[i], shape_str(d.shape()),
                                  e.name, shape_str(expected)));
        values[i] = d.read_tensor(expected);
        continue;
      }
      const double v = d.read_scalar();
      if (!std::isfinite(v)) return skip(fmt::format("'{}' is {}", names[i], v));
      if (e.kind == OptimizerEntry::Kind::kIterations) {
        if (v < 0 || v != std::floor(v) || v > 9e15)
          return skip(fmt::format("'{}' is {}, expected a step count", names[i], v));
        iterations = static_cast<int64_t>(v);
      } else {
        momentum_cache = v;
      }
    }
  } catch (const std::exception& e) {
    return skip(e.what());
  }
  opt->set_iterations(iterations);
  if (auto* nadam = dynamic_cast<Nadam*>(opt)) nadam->set_momentum_cache(momentum_cache);
  for (size_t i = 0; i < entries->size(); ++i) {
    const OptimizerEntry& e = (*entries)[i];
    if (e.kind == OptimizerEntry::Kind::kSlot) opt->slots_of(e.param).at(static_cast<size_t>(e.slot)) = values[i];
  }
}

}  // namespace minidl::keras_io
