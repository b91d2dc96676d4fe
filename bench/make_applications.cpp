// bench/make_applications.cpp — writes each registered keras.applications architecture as a model file.
//
//   make_applications OUTDIR [NAME ...] [--seed S]
//
// For every architecture applications::names() lists (or only the NAMEs given),
// builds it with Keras's default arguments (default input size, include_top,
// 1000 classes, softmax) after set_random_seed(S) (default 1), so each file's
// weights do not depend on which others were written, and saves it to
// OUTDIR/NAME.h5 with io's save_model (what Model::save calls; named here so the
// program links minidl_io): Keras's legacy full-model layout, which
// bench/keras_to_torch.py reads. An architecture whose default input leaves
// height and width open (MobileNetV3's (None, None, 3)) is built at 224x224x3,
// the size its ImageNet weights use, so the file has a shape to time.
// Prints one line per file: name, parameter count, input shape, seconds to
// build and save. Used by bench/compare_predict.py.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "applications/application_options.h"
#include "core/random.h"
#include "io/keras_model.h"

namespace {

int usage(const char* message) {
  std::fprintf(stderr, "make_applications: %s\nusage: make_applications OUTDIR [NAME ...] [--seed S]\n", message);
  return 2;
}

// True when an input dimension other than the batch is unknown.
bool has_open_dimension(const minidl::ModelImpl& model) {
  for (const minidl::KerasTensor& input : model.inputs()) {
    const minidl::Shape& shape = input.shape();
    for (size_t d = 1; d < shape.size(); ++d)
      if (shape[d] == minidl::kNone) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::string outdir;
  std::vector<std::string> wanted;
  uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--seed") {
      if (i + 1 >= argc) return usage("--seed needs a value");
      seed = std::stoull(argv[++i]);
    } else if (outdir.empty()) {
      outdir = arg;
    } else {
      wanted.push_back(arg);
    }
  }
  if (outdir.empty()) return usage("missing OUTDIR");
  std::error_code ec;
  if (!std::filesystem::is_directory(outdir, ec)) {
    std::fprintf(stderr, "make_applications: OUTDIR '%s' is not a directory\n", outdir.c_str());
    return 1;
  }
  if (wanted.empty()) wanted = minidl::applications::names();
  if (wanted.empty()) {
    std::fprintf(stderr, "make_applications: no architecture is registered\n");
    return 1;
  }
  int failures = 0;
  for (const std::string& name : wanted) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string path = (std::filesystem::path(outdir) / (name + ".h5")).string();
    try {
      minidl::set_random_seed(seed);
      minidl::Model model = minidl::applications::build(name);
      if (has_open_dimension(*model.ptr())) {
        minidl::set_random_seed(seed);
        model = minidl::applications::build(name, {.input_shape = minidl::Shape{224, 224, 3}});
      }
      minidl::save_model(*model.ptr(), path);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("%s: %lld parameters, input %s, %.1f s -> %s\n", name.c_str(),
                  static_cast<long long>(model->count_params()),
                  minidl::shape_str(model->inputs().at(0).shape()).c_str(), s, path.c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "make_applications: %s: %s\n", name.c_str(), e.what());
      ++failures;
    }
  }
  return failures == 0 ? 0 : 1;
}
