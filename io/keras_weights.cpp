// io/keras_weights.cpp — which variables a layer exposes to a Keras file, in which order, and the split
// name-list attributes Keras uses for them.
#include <algorithm>
#include <map>

#include "core/errors.h"
#include "core/logging.h"
#include "io/keras_internal.h"

namespace minidl::keras_io {
namespace {

// Keras splits a name attribute past this many bytes (HDF5's object header limit).
constexpr size_t kHeaderLimit = 64512;

void collect_owners(const Layer& layer, std::map<const void*, WeightSlot>& out) {
  for (const Weight& w : layer.own_weights())
    out[w.variable.id()] = WeightSlot{w.variable, &layer, w.name, fmt::format("{}/{}:0", layer.name(), w.name)};
  for (const auto& sub : layer.sublayers()) collect_owners(*sub, out);
}

}  // namespace

std::vector<WeightSlot> legacy_slots(const Layer& layer) {
  std::map<const void*, WeightSlot> owners;
  collect_owners(layer, owners);
  std::vector<WeightSlot> out;
  auto add = [&](const std::vector<Variable>& vars) {
    for (const auto& v : vars) {
      auto it = owners.find(v.id());
      // A variable shared by two sublayers is listed once, as Keras deduplicates by identity.
      if (it == owners.end()) continue;
      out.push_back(it->second);
      owners.erase(it);
    }
  };
  add(layer.trainable_weights());
  add(layer.non_trainable_weights());
  return out;
}

std::vector<WeightSlot> keras3_own_slots(const Layer& layer) {
  std::vector<WeightSlot> out;
  for (bool trainable : {true, false})
    for (const Weight& w : layer.own_weights())
      if (w.trainable == trainable)
        out.push_back(WeightSlot{w.variable, &layer, w.name, fmt::format("{}/{}:0", layer.name(), w.name)});
  return out;
}

void apply_assignments(const std::vector<Assignment>& assignments) {
  for (const auto& a : assignments) {
    Variable v = a.variable;
    v.assign(a.value);
  }
}

bool has_names_attr(const h5::Object& o, const std::string& name) { return o.has_attr(name) || o.has_attr(name + "0"); }

std::vector<std::string> read_names_attr(const h5::Object& o, const std::string& name) {
  if (o.has_attr(name)) return o.read_string_array_attr(name);
  std::vector<std::string> out;
  for (int i = 0; o.has_attr(name + std::to_string(i)); ++i) {
    auto part = o.read_string_array_attr(name + std::to_string(i));
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

void write_names_attr(const h5::Object& o, const std::string& name, const std::vector<std::string>& values) {
  if (values.empty()) {
    o.write_empty_array_attr(name);
    return;
  }
  size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size());
  // numpy.array_split into the fewest chunks that fit: the first (n % k) chunks get one more.
  const size_t n = values.size();
  size_t chunks = 1;
  while (((n + chunks - 1) / chunks) * width > kHeaderLimit && chunks < n) ++chunks;
  if (chunks == 1) {
    o.write_string_array_attr(name, values);
    return;
  }
  size_t begin = 0;
  for (size_t k = 0; k < chunks; ++k) {
    const size_t len = n / chunks + (k < n % chunks ? 1 : 0);
    o.write_string_array_attr(name + std::to_string(k),
                              std::vector<std::string>(values.begin() + static_cast<std::ptrdiff_t>(begin),
                                                       values.begin() + static_cast<std::ptrdiff_t>(begin + len)));
    begin += len;
  }
}

std::string layer_label(const Layer& l) { return fmt::format("layer '{}' ({})", l.name(), l.class_name()); }

void plan_layer_by_name(const Layer& layer, const LoadOptions& options, std::vector<Assignment>& out,
                        const std::function<void(std::vector<Assignment>&)>& plan) {
  std::vector<Assignment> planned;
  try {
    plan(planned);
  } catch (const ValueError& e) {
    if (!options.skip_mismatch) throw;
    logger()->warn("load_weights: skipping {}: {}", layer_label(layer), e.what());
    return;
  }
  out.insert(out.end(), planned.begin(), planned.end());
}

}  // namespace minidl::keras_io
