// io/keras_optimizer_weights.cpp — optimizer state in model files: the Keras 3 optimizer/vars of model.weights.h5
// (`.keras`, `.weights.h5`; see the Keras 3 section below), and /optimizer_weights of the legacy
// full-model .h5, as tf.keras 2.x (optimizer_v2) writes it and load_model_from_hdf5 reads it back. Keras's reader does
// optimizer._create_all_weights(model.trainable_variables) and then set_weights(values in
// weight_names order), so what matters to it is the order and the shapes:
//   [iter] (+ Nadam's momentum_cache) + for each slot kind, that slot of every trainable
//   weight, e.g. Adam: iter, m of every weight, v of every weight (vhat too with amsgrad).
// Dataset names follow the variables Keras creates under the optimizer's name scope:
// "Adam/iter:0", "Adam/conv2d/kernel/m:0".
#include <nlohmann/json.hpp>

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

// The optimizer's Keras name (its config's "name"), the prefix of its variables.
std::string optimizer_name(const OptimizerBase& opt) {
  const json c = opt.get_config();
  return c.contains("name") && c["name"].is_string() ? c["name"].get<std::string>() : opt.class_name();
}

// `layout` ("optimizer_weights", "optimizer variables") is written for built-in optimizers only.
void warn_state_not_saved(const ModelImpl& model, const OptimizerBase& opt, const char* layout) {
  logger()->warn("model '{}': the state of optimizer {} is not saved (minidl writes Keras's {} for the built-in "
                 "optimizers only)",
                 model.name(), opt.class_name(), layout);
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
  const std::string prefix = optimizer_name(opt);
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
  if (!entries) return warn_state_not_saved(model, *opt, "optimizer_weights");
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


// --- Keras 3: optimizer/vars of model.weights.h5 ----------------------------------------
// Keras 3's optimizer saves optimizer.variables as vars/0, vars/1, ... (save_own_variables),
// in the order it created them: iteration, learning_rate (a float32 variable unless the rate
// is a schedule), then the slots its build() adds. add_optimizer_variables with several slot
// names interleaves them per model variable (Adam: momentum, velocity of the first weight,
// then of the second, ...); separate calls follow one another (Adam's velocity_hat, RMSprop's
// momentum and average_gradient). Nadam then adds its u_product scalar. Its loader
// (load_own_variables) takes the file only when the count matches and warns otherwise.
namespace {

struct Keras3OptimizerVar {
  enum class Kind { kIterations, kLearningRate, kSlot, kMomentumCache };
  Kind kind = Kind::kSlot;
  Variable param;  // kSlot: the trainable weight the slot belongs to
  int slot = -1;   // kSlot: index into OptimizerBase::slots_of(param)
};

// The slot groups of Keras 3's build() for each built-in optimizer, as minidl slot indices
// (the order update() reads them in train/optimizers.cpp); a group of several slots is one
// interleaving add_optimizer_variables call. nullopt for an optimizer minidl does not know.
std::optional<std::vector<std::vector<int>>> keras3_slot_groups(const OptimizerBase& opt) {
  const std::string cls = opt.class_name();
  const json c = opt.get_config();
  using Groups = std::vector<std::vector<int>>;
  if (cls == "SGD") return config_flag(c, "momentum") ? Groups{{0}} : Groups{};
  if (cls == "Adam") return config_flag(c, "amsgrad") ? Groups{{0, 1}, {2}} : Groups{{0, 1}};
  if (cls == "RMSprop") {
    // velocity; momentum and average_gradient only when Keras uses them (minidl keeps all three).
    Groups g{{0}};
    if (config_flag(c, "momentum")) g.push_back({1});
    if (config_flag(c, "centered")) g.push_back({2});
    return g;
  }
  if (cls == "Adagrad") return Groups{{0}};
  if (cls == "Adadelta" || cls == "Adamax" || cls == "Nadam") return Groups{{0, 1}};
  return std::nullopt;
}

bool has_learning_rate_variable(const OptimizerBase& opt) {
  const json c = opt.get_config();
  return c.contains("learning_rate") && c["learning_rate"].is_number();  // a schedule is an object
}

std::optional<std::vector<Keras3OptimizerVar>> keras3_plan(const ModelImpl& model, const OptimizerBase& opt) {
  const auto groups = keras3_slot_groups(opt);
  if (!groups) return std::nullopt;
  using Kind = Keras3OptimizerVar::Kind;
  std::vector<Keras3OptimizerVar> out{{Kind::kIterations, Variable(), -1}};
  if (has_learning_rate_variable(opt)) out.push_back({Kind::kLearningRate, Variable(), -1});
  const std::vector<Variable> params = model.trainable_weights();
  for (const auto& group : *groups)
    for (const Variable& p : params)
      for (int slot : group) out.push_back({Kind::kSlot, p, slot});
  if (dynamic_cast<const Nadam*>(&opt) != nullptr) out.push_back({Kind::kMomentumCache, Variable(), -1});
  return out;
}

}  // namespace

void write_keras3_optimizer_vars(const ModelImpl& model, const h5::Group& root) {
  auto* opt = dynamic_cast<OptimizerBase*>(model.optimizer().get());
  if (opt == nullptr) return;
  const auto plan = keras3_plan(model, *opt);
  if (!plan) return warn_state_not_saved(model, *opt, "optimizer variables");
  // Written as a built optimizer (the slots zero or their initial value before the first
  // step), so Keras, which builds the optimizer when it compiles the loaded model, takes them.
  const h5::Group vars = root.create_group("optimizer/vars");
  vars.write_string_attr("name", optimizer_name(*opt));
  for (size_t i = 0; i < plan->size(); ++i) {
    const Keras3OptimizerVar& v = (*plan)[i];
    const std::string key = std::to_string(i);
    switch (v.kind) {
      case Keras3OptimizerVar::Kind::kIterations:
        vars.write_scalar(key, static_cast<double>(opt->iterations()), h5::DType::kInt64);
        break;
      case Keras3OptimizerVar::Kind::kLearningRate:
        vars.write_scalar(key, opt->learning_rate(), h5::DType::kFloat32);
        break;
      case Keras3OptimizerVar::Kind::kSlot:
        vars.write_tensor(key, opt->slots_of(v.param).at(static_cast<size_t>(v.slot)));
        break;
      case Keras3OptimizerVar::Kind::kMomentumCache:
        // Keras's u_product is float32; float64 keeps minidl's double product exact, so a resumed
        // run is bitwise the uninterrupted one (Keras casts it on assign).
        vars.write_scalar(key, dynamic_cast<const Nadam&>(*opt).momentum_cache(), h5::DType::kFloat64);
        break;
    }
  }
}

void restore_keras3_optimizer_vars(ModelImpl& model, const h5::Group& root, const std::string& where) {
  if (!root.is_group("optimizer/vars")) return;  // saved uncompiled, or by a writer without optimizer state
  auto skip = [&](const std::string& why) {
    logger()->warn("{}: /optimizer/vars: {}; the optimizer starts from a fresh state", where, why);
  };
  auto* opt = dynamic_cast<OptimizerBase*>(model.optimizer().get());
  const auto plan = opt != nullptr ? keras3_plan(model, *opt) : std::nullopt;
  if (!plan) return skip("minidl restores the state of its built-in optimizers only");
  using Kind = Keras3OptimizerVar::Kind;
  // Everything is read and checked before anything is set: a bad file changes nothing.
  int64_t iterations = 0;
  double learning_rate = 0, momentum_cache = 1.0;
  std::vector<Tensor> values(plan->size());
  try {
    const h5::Group vars = root.open_group("optimizer/vars");
    const std::vector<std::string> keys = keras3_numbered_vars(vars);
    const size_t unbuilt = has_learning_rate_variable(*opt) ? 2 : 1;
    // An optimizer Keras never built (compiled, not trained) saves only iteration and
    // learning_rate: the fresh state the model already has.
    if (keys.size() == unbuilt && plan->size() > unbuilt) return;
    if (keys.size() != plan->size())
      return skip(fmt::format("skipping variable loading for optimizer '{}', because it has {} variables whereas the "
                              "saved optimizer has {} variables",
                              optimizer_name(*opt), plan->size(), keys.size()));
    for (size_t i = 0; i < keys.size(); ++i) {
      const Keras3OptimizerVar& v = (*plan)[i];
      const h5::Dataset d = vars.open_dataset(keys[i]);
      if (v.kind == Kind::kSlot) {
        const Shape expected = v.param.value().shape();
        if (d.type_class() != h5::TypeClass::kFloat || d.shape() != expected)
          return skip(fmt::format("variable {} is {} of shape {}, expected float of shape {} (a slot of '{}')", keys[i],
                                  d.type_name(), shape_str(d.shape()), shape_str(expected), v.param.name()));
        values[i] = d.read_tensor(expected);
        continue;
      }
      const double x = d.read_scalar();
      if (!std::isfinite(x)) return skip(fmt::format("variable {} is {}", keys[i], x));
      if (v.kind == Kind::kIterations) {
        if (x < 0 || x != std::floor(x) || x > 9e15)
          return skip(fmt::format("variable {} is {}, expected the step count", keys[i], x));
        iterations = static_cast<int64_t>(x);
      } else if (v.kind == Kind::kLearningRate) {
        if (x < 0) return skip(fmt::format("variable {} is {}, expected the learning rate", keys[i], x));
        learning_rate = x;
      } else {
        momentum_cache = x;
      }
    }
  } catch (const std::exception& e) {
    return skip(e.what());
  }
  opt->set_iterations(iterations);
  // The file holds the rate as float32: a rate that rounds to it is kept at full precision.
  if (has_learning_rate_variable(*opt) &&
      static_cast<float>(opt->learning_rate()) != static_cast<float>(learning_rate))
    opt->set_learning_rate(learning_rate);
  if (auto* nadam = dynamic_cast<Nadam*>(opt)) nadam->set_momentum_cache(momentum_cache);
  for (size_t i = 0; i < plan->size(); ++i) {
    const Keras3OptimizerVar& v = (*plan)[i];
    if (v.kind == Kind::kSlot) opt->slots_of(v.param).at(static_cast<size_t>(v.slot)) = values[i];
  }
}

}  // namespace minidl::keras_io
