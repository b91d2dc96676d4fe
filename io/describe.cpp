// io/describe.cpp — describe_keras_file: what `minidl inspect` prints. It reads the layout the way the
// loaders do (layer_names -> weight_names -> datasets, or layers/<key>/vars) but never
// builds a model, and reports damage inline instead of stopping at the first problem.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <optional>

#include "core/errors.h"
#include "io/keras_internal.h"
#include "io/keras_model.h"
#include "io/zip.h"

namespace minidl {
namespace keras_io {
namespace {

// Layer name -> class name, from a model config of any era (nested models included).
void collect_classes(const json& cc, std::map<std::string, std::string>& out) {
  if (!cc.is_object() || !cc.contains("class_name") || !cc["class_name"].is_string()) return;
  const json& cfg = cc.contains("config") ? cc["config"] : json();
  const json* layers = cfg.is_array() ? &cfg : (cfg.is_object() && cfg.contains("layers") ? &cfg["layers"] : nullptr);
  if (!layers || !layers->is_array()) return;
  for (const auto& e : *layers) {
    if (!e.is_object() || !e.contains("class_name") || !e["class_name"].is_string()) continue;
    std::string name;
    if (e.contains("name") && e["name"].is_string()) {
      name = e["name"].get<std::string>();
    } else if (e.contains("config") && e["config"].is_object() && e["config"].contains("name") &&
               e["config"]["name"].is_string()) {
      name = e["config"]["name"].get<std::string>();
    }
    if (!name.empty()) out[name] = e["class_name"].get<std::string>();
    collect_classes(e, out);
  }
}

std::string attr_text(const h5::Object& o, const std::string& name) {
  if (!o.has_attr(name)) return "(not stored)";
  try {
    return o.read_string_attr(name);
  } catch (const std::exception& e) {
    return std::string("(unreadable: ") + e.what() + ")";
  }
}

std::string dataset_line(const h5::Group& g, const std::string& rel) {
  if (!g.is_dataset(rel)) return "[missing dataset]";
  const h5::Dataset d = g.open_dataset(rel);
  return fmt::format("{}  {}", shape_str(d.shape()), d.type_name());
}

// `where` names the attribute or archive member the text came from.
std::string config_summary(const std::string& text, const std::string& where,
                           std::map<std::string, std::string>& classes) {
  json cfg;
  try {
    cfg = parse_json_limited(text, where);
  } catch (const std::exception& e) {
    return e.what();
  }
  collect_classes(cfg, classes);
  const std::string cls = cfg.is_object() && cfg.contains("class_name") ? json_preview(cfg["class_name"]) : "?";
  std::string name = "?";
  if (cfg.is_object() && cfg.contains("config") && cfg["config"].is_object() && cfg["config"].contains("name"))
    name = json_preview(cfg["config"]["name"]);
  return fmt::format("{} {}, {} layer(s) listed", cls, name, classes.size());
}

void describe_legacy(const h5::Group& g, const std::map<std::string, std::string>& classes, std::string& out) {
  if (!has_names_attr(g, "layer_names")) {
    out += fmt::format("  {}: no layer_names attribute\n", g.path());
    return;
  }
  const auto names = read_names_attr(g, "layer_names");
  out += fmt::format("layers ({}, in layer_names order; weights in weight_names order):\n", names.size());
  for (const auto& n : names) {
    auto it = classes.find(n);
    out += fmt::format("  {}{}", n, it == classes.end() ? "" : " (" + it->second + ")");
    if (!g.is_group(n)) {
      out += "  [missing group]\n";
      continue;
    }
    const h5::Group lg = g.open_group(n);
    std::vector<std::string> weights;
    try {
      weights = read_names_attr(lg, "weight_names");
    } catch (const std::exception& e) {
      out += fmt::format("  [bad weight_names: {}]\n", e.what());
      continue;
    }
    out += weights.empty() ? "  no weights\n" : "\n";
    for (const auto& w : weights) out += fmt::format("    {}  {}\n", w, dataset_line(lg, w));
  }
  for (const auto& c : g.children())
    if (std::find(names.begin(), names.end(), c) == names.end() && g.is_group(c))
      out += fmt::format("  (group not in layer_names: {})\n", c);
}

void describe_keras3(const h5::Group& root, const std::string& base, const std::string& indent, std::string& out) {
  if (!root.is_group(base)) return;
  for (const auto& key : root.open_group(base).children(h5::Order::kCreation)) {
    const std::string path = base + "/" + key;
    const std::string vars = path + "/vars";
    std::string name = key;
    std::vector<std::string> ds;
    if (root.is_group(vars)) {
      const h5::Group v = root.open_group(vars);
      if (v.has_attr("name")) name = attr_text(v, "name");
      for (const auto& d : v.children())
        if (v.is_dataset(d)) ds.push_back(d);
      std::sort(ds.begin(), ds.end(), [](const std::string& a, const std::string& b) {
        return a.size() != b.size() ? a.size() < b.size() : a < b;
      });
    }
    out += fmt::format("{}{}  (layer '{}'){}\n", indent, path, name, ds.empty() ? ", no weights" : "");
    for (const auto& d : ds) out += fmt::format("{}  vars/{}  {}\n", indent, d, dataset_line(root.open_group(vars), d));
    describe_keras3(root, path + "/layers", indent + "  ", out);
  }
}

void describe_keras3_file(const h5::Group& root, std::string& out) {
  out += "layers (Keras 3 layout layers/<key>/vars/<i>):\n";
  describe_keras3(root, "layers", "  ", out);
  describe_keras3(root, "_layer_checkpoint_dependencies", "  ", out);
  if (root.is_group("optimizer/vars"))
    out += fmt::format("optimizer: '{}', {} variable(s)\n", attr_text(root.open_group("optimizer/vars"), "name"),
                       root.open_group("optimizer/vars").children().size());
}

// Datasets under `g` (recursively) and how many of them carry the Fletcher-32 filter.
void count_checksums(const h5::Group& g, int depth, int64_t& checked, int64_t& total) {
  if (depth > 64) return;  // deeper than any Keras layout; also stops hard-link cycles
  for (const auto& c : g.children()) {
    if (g.is_dataset(c)) {
      ++total;
      if (g.open_dataset(c).has_checksum()) ++checked;
    } else if (g.is_group(c)) {
      count_checksums(g.open_group(c), depth + 1, checked, total);
    }
  }
}

// "fletcher32 on 12 of 12 datasets" / "none (legacy HDF5 has no checksums)".
std::string checksum_summary(const h5::Group& root) {
  int64_t checked = 0, total = 0;
  try {
    count_checksums(root, 0, checked, total);
  } catch (const std::exception& e) {
    return fmt::format("unknown ({})", e.what());
  }
  if (total == 0) return "none (no datasets)";
  if (checked == 0) return fmt::format("none on {} dataset(s) (legacy HDF5 has no checksums)", total);
  std::string s = fmt::format("fletcher32 on {} of {} datasets, verified by HDF5 on every read", checked, total);
  if (checked < total) s += " (scalars and empty arrays cannot carry one)";
  return s;
}

// One line per member of a .keras archive; each member is read to its end, so its CRC-32
// is checked, and a failing check is reported on its line.
void describe_zip_members(const ZipReader& zip, std::string& out) {
  out += "entries (zip members, CRC-32 checked when read):\n";
  int64_t ok = 0;
  for (const auto& m : zip.members()) {
    std::string status = "matches";
    try {
      const bool json_member = m.name == "config.json" || m.name == "metadata.json";
      zip.stream(m.name, json_member ? kMaxKerasJsonMemberBytes : keras_weights_member_limit(), {});
      ++ok;
    } catch (const std::exception& e) {
      status = std::string("FAILS: ") + e.what();
    }
    out += fmt::format("  {}  {} bytes, {}, CRC-32 {:08x} {}\n", m.name, m.size,
                       m.stored ? "stored" : fmt::format("compressed to {} bytes", m.compressed_size), m.crc, status);
  }
  out += fmt::format("checksums: zip CRC-32 on {} member(s), {} of them match\n", zip.members().size(), ok);
}

}  // namespace
}  // namespace keras_io

using namespace keras_io;  // NOLINT: implements describe_keras_file of keras_model.h

std::string describe_keras_file(const std::string& path) {
  const FileKind kind = sniff_file(path);
  std::string out = fmt::format("file: {}\nformat: {}\n", path, file_kind_name(kind));
  std::map<std::string, std::string> classes;
  if (kind == FileKind::kKerasZip) {
    const ZipReader zip = open_keras_archive(path);
    describe_zip_members(zip, out);
    auto text_of = [&](const char* name) -> std::optional<std::string> {
      if (!zip.find(name)) return std::nullopt;
      try {
        const Bytes b = zip.read(name, kMaxKerasJsonMemberBytes);
        return std::string(b.begin(), b.end());
      } catch (const std::exception& e) {
        return std::string(e.what());
      }
    };
    if (const auto meta = text_of("metadata.json")) out += fmt::format("metadata: {}\n", *meta);
    if (const auto cfg = text_of("config.json"))
      out += fmt::format("model: {}\n", config_summary(*cfg, "config.json", classes));
    if (zip.find("model.weights.h5")) {
      std::optional<h5::H5File> w;
      try {
        w = open_keras_zip_weights(path);
      } catch (const std::exception& e) {
        out += fmt::format("model.weights.h5: {}\n", e.what());
        return out;
      }
      out += fmt::format("model.weights.h5 checksums: {}\n", checksum_summary(w->root()));
      describe_keras3_file(w->root(), out);
    }
    return out;
  }
  const h5::H5File f = h5::H5File::open_read(path);
  const h5::Group root = f.root();
  out += fmt::format("checksums: {}\n", checksum_summary(root));
  switch (kind) {
    case FileKind::kLegacyModel: {
      out += fmt::format("keras_version: {}\nbackend: {}\n", attr_text(root, "keras_version"), attr_text(root, "backend"));
      out += fmt::format("model: {}\n", config_summary(attr_text(root, "model_config"), "model_config", classes));
      if (root.has_attr("training_config")) {
        json tc;
        try {
          tc = parse_json_limited(attr_text(root, "training_config"), "training_config");
        } catch (const std::exception&) {
        }
        const json opt = tc.is_object() ? tc.value("optimizer_config", json()) : json();
        out += fmt::format("training_config: loss {}, optimizer {}\n",
                           tc.is_object() ? json_preview(tc.value("loss", json())) : "?",
                           opt.is_object() ? json_preview(opt.value("class_name", json())) : "?");
      } else {
        out += "training_config: none (saved uncompiled)\n";
      }
      if (root.is_group("model_weights")) {
        describe_legacy(root.open_group("model_weights"), classes, out);
      } else {
        out += "/model_weights: missing\n";
      }
      if (root.is_group("optimizer_weights"))
        out += fmt::format("optimizer_weights: {} weight name(s)\n",
                           read_names_attr(root.open_group("optimizer_weights"), "weight_names").size());
      break;
    }
    case FileKind::kLegacyWeights:
      out += fmt::format("keras_version: {}\nbackend: {}\n", attr_text(root, "keras_version"), attr_text(root, "backend"));
      describe_legacy(root, classes, out);
      break;
    case FileKind::kKeras3Weights:
      describe_keras3_file(root, out);
      break;
    default: {
      out += "root attributes:";
      for (const auto& a : root.attr_names()) out += " " + a;
      out += "\nroot children:";
      for (const auto& c : root.children()) out += " " + c;
      out += "\n";
    }
  }
  return out;
}

}  // namespace minidl
