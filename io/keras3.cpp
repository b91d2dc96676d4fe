// io/keras3.cpp — the Keras 3 `.keras` archive: a STORED zip of metadata.json, config.json and
// model.weights.h5 (the Keras 3 weights layout, io/keras_weights_k3.cpp, with the optimizer's
// variables under optimizer/vars, so training resumes where it stopped). The JSON entries
// carry Keras's fixed 1980-01-01 timestamp; the weights the time of saving.
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "core/errors.h"
#include "io/keras_internal.h"
#include "io/keras_model.h"
#include "io/zip.h"

namespace minidl::keras_io {
namespace {

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

// Noon on 1980-01-01 UTC: the same calendar day in every time zone (zip stores local time).
constexpr std::time_t kZipEpoch = 315576000;

std::string now_string() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d@%H:%M:%S", &tm);
  return buf;
}

}  // namespace

int64_t keras_weights_member_limit() {
  const int64_t budget = kMaxKerasModelParams * static_cast<int64_t>(sizeof(float)) * 3 + (int64_t{64} << 20);
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return budget;
  return std::min(budget, static_cast<int64_t>(pages) * static_cast<int64_t>(page));
}

ZipReader open_keras_archive(const std::string& path) {
  const int64_t largest = std::max(keras_weights_member_limit(), kMaxKerasJsonMemberBytes);
  return ZipReader(path, {.max_entry_bytes = largest, .max_total_bytes = 2 * largest + 2 * kMaxKerasJsonMemberBytes});
}

namespace {

h5::H5File weights_of(const ZipReader& zip) {
  return h5::H5File::open_from_memory(zip.read("model.weights.h5", keras_weights_member_limit()),
                                      zip.path() + "/model.weights.h5");
}

}  // namespace

h5::H5File open_keras_zip_weights(const std::string& path) { return weights_of(open_keras_archive(path)); }

std::shared_ptr<ModelImpl> load_keras_zip(const std::string& path) {
  const ZipReader zip = open_keras_archive(path);
  const Bytes cfg_bytes = zip.read("config.json", kMaxKerasJsonMemberBytes);
  const std::string where = path + ": config.json";
  const json cfg = parse_json_limited(std::string(cfg_bytes.begin(), cfg_bytes.end()), where);
  auto model = build_model_from_config(cfg, where);
  const h5::H5File weights = weights_of(zip);
  apply_assignments(plan_keras3_weights(*model, weights.root(), {}));
  compile_from_compile_config(*model, cfg, where, "loaded");
  if (model->compiled()) restore_keras3_optimizer_vars(*model, weights.root(), path + ": model.weights.h5");
  return model;
}

void save_keras_zip(const ModelImpl& model, const std::string& path) {
  const json config = keras3_model_config(model);
  const json metadata = {{"keras_version", kWrittenKeras3Version}, {"date_saved", now_string()}};
  h5::H5File weights = h5::H5File::create_in_memory(path + "/model.weights.h5");
  write_keras3_weights(model, weights.root());
  Bytes image = weights.image();
  weights.close();
  write_zip(path, {{"metadata.json", bytes_of(metadata.dump()), kZipEpoch},
                   {"config.json", bytes_of(config.dump()), kZipEpoch},
                   {"model.weights.h5", std::move(image), std::nullopt}});
}

}  // namespace minidl::keras_io
