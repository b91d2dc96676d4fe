// io/image_dataset.cpp — image_dataset_from_directory: argument checks, indexing the folder,
// Keras's shuffle and split (io/image_dataset.h). Streaming is io/image_dataset_stream.cpp.
#include "io/image_dataset.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <random>
#include <set>

#include "core/errors.h"
#include "io/image_dataset_internal.h"

namespace minidl {

namespace fs = std::filesystem;

namespace {

const char* const kAllowedFormats = "('.bmp', '.gif', '.jpeg', '.jpg', '.png')";

bool allowed_image_name(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* ext : {".bmp", ".gif", ".jpeg", ".jpg", ".png"}) {
    const std::string e = ext;
    if (lower.size() >= e.size() && lower.compare(lower.size() - e.size(), e.size(), e) == 0) return true;
  }
  return false;
}

// Python's repr of a list of strings, for messages: ['a', 'b'].
std::string py_list(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& s : items) quoted.push_back("'" + s + "'");
  return fmt::format("[{}]", fmt::join(quoted, ", "));
}

// Keras's check_validation_split_arg.
void check_validation_split(double split, const std::string& subset, bool shuffle, bool has_seed) {
  if (split != 0 && !(split > 0 && split < 1))
    throw ValueError(fmt::format("`validation_split` must be between 0 and 1, received: {}", split));
  if ((split != 0 || !subset.empty()) && !(split != 0 && !subset.empty()))
    throw ValueError("If `subset` is set, `validation_split` must be set, and inversely.");
  if (!subset.empty() && subset != "training" && subset != "validation" && subset != "both")
    throw ValueError(
        fmt::format("`subset` must be either \"training\", \"validation\" or \"both\", received: {}", subset));
  if (split != 0 && shuffle && !has_seed)
    throw ValueError(
        "If using `validation_split` and shuffling the data, you must provide a `seed` argument, to make sure that "
        "there is no overlap between the training and validation subset.");
}

// The files under one class folder, as Keras's iter_valid_files walks them:
// folders in path order, files in name order, only the allowed extensions.
std::vector<std::string> class_files(const fs::path& class_dir, bool follow_links) {
  std::vector<std::pair<std::string, std::string>> found;  // (folder, file name)
  std::error_code ec;
  auto opts = follow_links ? fs::directory_options::follow_directory_symlink : fs::directory_options::none;
  fs::recursive_directory_iterator it(class_dir, opts, ec), end;
  if (ec) throw IOError(fmt::format("{}: cannot list the folder: {}", class_dir.string(), ec.message()));
  for (; it != end; it.increment(ec)) {
    if (ec) throw IOError(fmt::format("{}: cannot list the folder: {}", class_dir.string(), ec.message()));
    const fs::directory_entry& e = *it;
    std::error_code kind;
    if (e.is_directory(kind)) continue;
    const std::string name = e.path().filename().string();
    if (allowed_image_name(name)) found.emplace_back(e.path().parent_path().string(), name);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  for (const auto& [folder, name] : found) paths.push_back((fs::path(folder) / name).string());
  return paths;
}

struct Index {
  std::vector<std::string> paths;
  std::vector<int> labels;  // empty without labels
  std::vector<std::string> class_names;
};

// Keras's index_directory, with its shuffle.
Index index_directory(const std::string& directory, const ImageDatasetOptions& o, bool with_labels, uint32_t seed) {
  std::error_code ec;
  if (!fs::exists(directory, ec))
    throw IOError(fmt::format("image_dataset_from_directory: directory '{}' does not exist", directory));
  if (!fs::is_directory(directory, ec))
    throw IOError(fmt::format("image_dataset_from_directory: '{}' is not a directory", directory));
  Index index;
  std::vector<std::string> subdirs;
  if (o.labels == "inferred") {
    for (const fs::directory_entry& e : fs::directory_iterator(directory, ec)) {
      const std::string name = e.path().filename().string();
      std::error_code kind;
      if (fs::is_directory(e.path(), kind) && !name.empty() && name[0] != '.') subdirs.push_back(name);
    }
    if (ec) throw IOError(fmt::format("{}: cannot list the folder: {}", directory, ec.message()));
    std::sort(subdirs.begin(), subdirs.end());
    if (!o.class_names.empty()) {
      const std::set<std::string> have(subdirs.begin(), subdirs.end());
      for (const std::string& c : o.class_names)
        if (!have.count(c))
          throw ValueError(fmt::format(
              "The `class_names` passed did not match the names of the subdirectories of the target directory. "
              "Expected: {} (or a subset of it), but received: class_names={}",
              py_list(subdirs), py_list(o.class_names)));
      subdirs = o.class_names;
    }
    for (size_t c = 0; c < subdirs.size(); ++c) {
      const fs::path class_dir = fs::path(directory) / subdirs[c];
      std::vector<std::string> files = class_files(class_dir, o.follow_links);
      if (files.empty())
        throw ValueError(fmt::format("image_dataset_from_directory: class folder '{}' holds no images. Allowed formats: {}",
                                     class_dir.string(), kAllowedFormats));
      for (std::string& f : files) {
        index.paths.push_back(std::move(f));
        index.labels.push_back(static_cast<int>(c));
      }
    }
    index.class_names = subdirs;
  } else {
    index.paths = class_files(fs::path(directory), o.follow_links);
  }
  if (!with_labels) {
    index.labels.clear();
    index.class_names.clear();
  }
  if (o.verbose) {
    if (!with_labels)
      fmt::print("Found {} files.\n", index.paths.size());
    else
      fmt::print("Found {} files belonging to {} classes.\n", index.paths.size(), index.class_names.size());
  }
  if (o.shuffle) {
    const std::vector<int64_t> perm = numpy_legacy_shuffle_order(static_cast<int64_t>(index.paths.size()), seed);
    Index shuffled{{}, {}, index.class_names};
    for (int64_t i : perm) {
      shuffled.paths.push_back(index.paths[i]);
      if (!index.labels.empty()) shuffled.labels.push_back(index.labels[i]);
    }
    index.paths = std::move(shuffled.paths);
    index.labels = std::move(shuffled.labels);
  }
  return index;
}

// Keras's get_training_or_validation_split for one subset ("" = everything).
Index split(const Index& all, double validation_split, const std::string& subset, bool verbose) {
  if (validation_split == 0) return all;
  const auto n = static_cast<int64_t>(all.paths.size());
  const auto num_val = static_cast<int64_t>(validation_split * static_cast<double>(n));
  const int64_t num_train = n - num_val;
  const bool training = subset == "training";
  if (verbose)
    fmt::print("Using {} files for {}.\n", training ? num_train : num_val, training ? "training" : "validation");
  const int64_t begin = training ? 0 : num_train, end = training ? num_train : n;
  Index part{{all.paths.begin() + begin, all.paths.begin() + end}, {}, all.class_names};
  if (!all.labels.empty()) part.labels.assign(all.labels.begin() + begin, all.labels.begin() + end);
  return part;
}

struct Prepared {
  ImageDataset::Spec spec;
  Index index;
  uint32_t seed = 0;
  bool with_labels = true;
};

// Argument checks in Keras's order, then the indexed (and shuffled) folder.
Prepared prepare(const std::string& directory, const ImageDatasetOptions& o) {
  if (o.labels != "inferred" && !o.labels.empty())
    throw ValueError(fmt::format(
        "`labels` argument should be a list/tuple of integer labels, of the same size as the number of image files "
        "in the target directory. If you wish to infer the labels from the subdirectory names in the target "
        "directory, pass `labels=\"inferred\"`. If you wish to get a dataset that only contains images (no labels), "
        "pass `labels=None`. Received: labels={}",
        o.labels));
  const std::string& lm = o.label_mode;
  if (lm != "int" && lm != "categorical" && lm != "binary" && !lm.empty())
    throw ValueError(fmt::format(
        "`label_mode` argument must be one of \"int\", \"categorical\", \"binary\", or None. Received: label_mode={}",
        lm));
  Prepared p;
  p.with_labels = !o.labels.empty() && !lm.empty();
  ImageDataset::Spec& s = p.spec;
  s.color = parse_color_mode(o.color_mode);
  s.channels = color_mode_channels(s.color);
  if (o.image_size[0] <= 0 || o.image_size[1] <= 0)
    throw ValueError(fmt::format("Invalid `image_size` value. Expected a tuple of 2 integers. Received: image_size=({}, {})",
                                 o.image_size[0], o.image_size[1]));
  s.height = o.image_size[0];
  s.width = o.image_size[1];
  std::string interp = o.interpolation;
  std::transform(interp.begin(), interp.end(), interp.begin(), [](unsigned char c) { return std::tolower(c); });
  s.interpolation = ops::parse_interpolation(interp);
  check_validation_split(o.validation_split, o.subset, o.shuffle, o.seed.has_value());
  if (o.crop_to_aspect_ratio && o.pad_to_aspect_ratio)
    throw ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to `True`.");
  if (o.labels.empty() && !o.class_names.empty())
    throw ValueError("When `labels=None` (no labels), argument `class_names` cannot be specified.");
  MINIDL_CHECK(o.batch_size >= 1, ValueError, "image_dataset_from_directory: batch_size must be >= 1, received {}",
               o.batch_size);
  MINIDL_CHECK(o.num_threads >= 1 && o.prefetch_batches >= 1, ValueError,
               "image_dataset_from_directory: num_threads and prefetch_batches must be >= 1, received {} and {}",
               o.num_threads, o.prefetch_batches);
  p.seed = o.seed ? *o.seed : static_cast<uint32_t>(std::random_device{}() % 1000000);
  p.index = index_directory(directory, o, p.with_labels, p.seed);
  if (lm == "binary" && p.with_labels && p.index.class_names.size() != 2)
    throw ValueError(fmt::format(
        "When passing `label_mode=\"binary\"`, there must be exactly 2 class_names. Received: class_names={}",
        py_list(p.index.class_names)));
  s.crop_to_aspect_ratio = o.crop_to_aspect_ratio;
  s.pad_to_aspect_ratio = o.pad_to_aspect_ratio;
  s.label_mode = p.with_labels ? lm : "";
  s.num_classes = static_cast<int64_t>(p.index.class_names.size());
  s.batch_size = o.batch_size;
  s.num_threads = o.num_threads;
  s.prefetch_batches = o.prefetch_batches;
  return p;
}

std::shared_ptr<ImageDataset> make(const Index& part, const Prepared& p, bool shuffle) {
  return std::make_shared<ImageDataset>(part.paths, part.labels, part.class_names,
                                        std::make_shared<const ImageDataset::Spec>(p.spec), shuffle, p.seed);
}

}  // namespace

std::shared_ptr<ImageDataset> image_dataset_from_directory(const std::string& directory,
                                                           const ImageDatasetOptions& options) {
  if (options.subset == "both")
    throw ValueError(
        "image_dataset_from_directory: subset=\"both\" gives two datasets: call image_dataset_from_directory_both");
  const Prepared p = prepare(directory, options);
  const Index part = split(p.index, options.validation_split, options.subset, options.verbose);
  if (part.paths.empty())
    throw ValueError(fmt::format("No images found in directory {}. Allowed formats: {}", directory, kAllowedFormats));
  return make(part, p, options.shuffle);
}

std::pair<std::shared_ptr<ImageDataset>, std::shared_ptr<ImageDataset>> image_dataset_from_directory_both(
    const std::string& directory, ImageDatasetOptions options) {
  if (options.subset.empty()) options.subset = "both";
  if (options.subset != "both")
    throw ValueError(fmt::format("image_dataset_from_directory_both: subset must be \"both\", received: {}",
                                 options.subset));
  const Prepared p = prepare(directory, options);
  const Index train = split(p.index, options.validation_split, "training", options.verbose);
  const Index val = split(p.index, options.validation_split, "validation", options.verbose);
  if (train.paths.empty())
    throw ValueError(
        fmt::format("No training images found in directory {}. Allowed formats: {}", directory, kAllowedFormats));
  if (val.paths.empty())
    throw ValueError(
        fmt::format("No validation images found in directory {}. Allowed formats: {}", directory, kAllowedFormats));
  // Keras builds the validation half of "both" with shuffle=False.
  return {make(train, p, options.shuffle), make(val, p, false)};
}

std::vector<int64_t> numpy_legacy_shuffle_order(int64_t n, uint32_t seed) {
  // RandomState(seed) seeds MT19937 with init_genrand(seed), which is how
  // std::mt19937 seeds itself; shuffle swaps x[i] with x[j], j drawn in [0, i]
  // for i = n-1 down to 1 by masking 32-bit outputs to the smallest covering
  // power of two and rejecting draws above i (NumPy's random_interval).
  std::mt19937 mt(seed);
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  for (int64_t i = n - 1; i >= 1; --i) {
    auto max = static_cast<uint64_t>(i);
    uint64_t mask = max;
    for (int shift : {1, 2, 4, 8, 16, 32}) mask |= mask >> shift;
    uint64_t j = 0;
    if (max <= 0xffffffffull) {
      do j = mt() & mask;
      while (j > max);
    } else {
      do {
        const uint64_t high = mt();
        j = ((high << 32) | mt()) & mask;
      } while (j > max);
    }
    std::swap(order[i], order[static_cast<int64_t>(j)]);
  }
  return order;
}

}  // namespace minidl
