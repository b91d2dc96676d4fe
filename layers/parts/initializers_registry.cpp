// layers/parts/initializers_registry.cpp — the initializer registry: Keras names and configs -> Initializer objects.
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/errors.h"
#include "layers/parts/initializers.h"
#include "layers/parts/part_config.h"

namespace minidl {
namespace {

// Aliases are Keras's snake_case names and legacy spellings.
using Entry = detail::PartEntry<Initializer>;

// The variance-scaling presets (GlorotUniform, HeNormal, ...): a seed and, since Keras 3.15, the fan axes.
template <class T>
Entry preset_case(std::string class_name, std::vector<std::string> aliases) {
  return {std::move(class_name), std::move(aliases), {"seed", "input_axes", "output_axes"},
          [](const json& c, const std::string& o) {
            return std::make_shared<T>(detail::config_seed(c, o), detail::config_int_list(c, "input_axes", o),
                                       detail::config_int_list(c, "output_axes", o));
          }};
}

const std::vector<Entry>& initializer_registry() {
  using detail::config_int_list, detail::config_number, detail::config_seed, detail::config_string;
  static const std::vector<Entry> entries = {
      {"Zeros", {"zeros", "zero"}, {}, [](const json&, const std::string&) { return std::make_shared<Zeros>(); }},
      {"Ones", {"ones", "one"}, {}, [](const json&, const std::string&) { return std::make_shared<Ones>(); }},
      {"Constant", {"constant"}, {"value"},
       [](const json& c, const std::string& o) { return std::make_shared<Constant>(config_number(c, "value", 0.0, o)); }},
      {"RandomUniform", {"random_uniform", "uniform"}, {"minval", "maxval", "seed"},
       [](const json& c, const std::string& o) {
         return std::make_shared<RandomUniform>(config_number(c, "minval", -0.05, o), config_number(c, "maxval", 0.05, o),
                                                config_seed(c, o));
       }},
      {"RandomNormal", {"random_normal", "normal"}, {"mean", "stddev", "seed"},
       [](const json& c, const std::string& o) {
         return std::make_shared<RandomNormal>(config_number(c, "mean", 0.0, o), config_number(c, "stddev", 0.05, o),
                                               config_seed(c, o));
       }},
      {"TruncatedNormal", {"truncated_normal"}, {"mean", "stddev", "seed"},
       [](const json& c, const std::string& o) {
         return std::make_shared<TruncatedNormal>(config_number(c, "mean", 0.0, o), config_number(c, "stddev", 0.05, o),
                                                  config_seed(c, o));
       }},
      {"VarianceScaling",
       {"variance_scaling"},
       {"scale", "mode", "distribution", "seed", "input_axes", "output_axes"},
       [](const json& c, const std::string& o) {
         return std::make_shared<VarianceScaling>(config_number(c, "scale", 1.0, o), config_string(c, "mode", "fan_in", o),
                                                  config_string(c, "distribution", "truncated_normal", o),
                                                  config_seed(c, o), config_int_list(c, "input_axes", o),
                                                  config_int_list(c, "output_axes", o));
       }},
      preset_case<GlorotUniform>("GlorotUniform", {"glorot_uniform"}),
      preset_case<GlorotNormal>("GlorotNormal", {"glorot_normal"}),
      preset_case<HeUniform>("HeUniform", {"he_uniform"}),
      preset_case<HeNormal>("HeNormal", {"he_normal"}),
      preset_case<LecunUniform>("LecunUniform", {"lecun_uniform"}),
      preset_case<LecunNormal>("LecunNormal", {"lecun_normal"}),
      {"Orthogonal", {"orthogonal"}, {"gain", "seed"},
       [](const json& c, const std::string& o) {
         return std::make_shared<Orthogonal>(config_number(c, "gain", 1.0, o), config_seed(c, o));
       }},
      {"Identity", {"identity"}, {"gain"},
       [](const json& c, const std::string& o) { return std::make_shared<Identity>(config_number(c, "gain", 1.0, o)); }},
  };
  return entries;
}

}  // namespace

std::shared_ptr<Initializer> get_initializer(const json& identifier) {
  if (identifier.is_null()) return nullptr;
  const detail::PartIdentifier id = detail::parse_part_identifier(identifier, "initializer");
  if (auto init = detail::make_registered_part(initializer_registry(), id, "initializer")) return init;
  detail::raise_unknown_part("initializer", identifier, detail::registered_names(initializer_registry()));
}

json serialize_initializer(const std::shared_ptr<Initializer>& init) {
  json j = class_and_config(init.get());
  if (j.is_null()) return j;
  json& c = j["config"];
  for (const char* key : {"input_axes", "output_axes"})
    if (c.contains(key) && c[key].is_null()) c.erase(key);
  return j;
}

}  // namespace minidl
