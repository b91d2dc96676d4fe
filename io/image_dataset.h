// io/image_dataset.h — keras.utils.image_dataset_from_directory: a folder of images as a batched,
// streamed BatchSource that fit, evaluate and predict read.
//
//   main_directory/
//     class_a/  a_image_1.jpg  a_image_2.png ...
//     class_b/  b_image_1.jpg ...
//
//   auto [train, val] = image_dataset_from_directory_both("main_directory",
//       {.image_size = {64, 64}, .seed = 1337, .validation_split = 0.2});
//   model->fit(*train, {.epochs = 10, .validation_source = val.get()});
//   train->class_names();   // {"class_a", "class_b"}: label i is class_names()[i]
//
// Keras's rules, from keras/src/utils/image_dataset_utils.py and dataset_utils.py:
//   - labels "inferred": each sub-folder (not starting with ".") is a class, in
//     alphanumeric order unless class_names gives the order (and a subset);
//     files are found recursively under each class folder, folders sorted by
//     path and files by name; only .bmp .gif .jpeg .jpg .png (any case) count.
//   - shuffle: the file list is shuffled once with NumPy's legacy
//     RandomState(seed).shuffle (reimplemented exactly: Mersenne Twister and
//     NumPy's bounded draws), so the same seed splits the same files into
//     training and validation as Keras does; without shuffle it stays sorted.
//   - validation_split f: the last int(f * N) files of that list are the
//     validation subset, the rest the training subset.
//   - argument errors are Keras's ValueErrors with Keras's messages.
// Where minidl differs: label_mode "int" labels are float32 (minidl's one
// dtype); labels given as a list are not supported; a class folder with no
// image is an error (Keras would silently train a class it never sees);
// the training subset is reshuffled each epoch by a full permutation drawn
// from (seed, epoch) — Keras's tf.data shuffle uses a buffer of 8 batches —
// so epoch e has the same order in every run with the same seed.
//
// Streaming: decoding and resizing run on `num_threads` background threads,
// which keep at most `prefetch_batches` finished batches ahead of the reader
// (memory: a few batches, whatever the folder's size). A file that cannot be
// decoded raises its IOError, naming the file, from next_batch in the
// reading (training) thread, at the batch that holds it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "train/batch_source.h"

namespace minidl {

struct ImageDatasetOptions {
  std::string labels = "inferred";        // "inferred", or "" for None (images only)
  std::string label_mode = "int";         // "int" | "categorical" | "binary" | "" (None)
  std::vector<std::string> class_names{}; // empty: every sub-folder, alphanumeric order
  std::string color_mode = "rgb";         // "grayscale" | "rgb" | "rgba"
  int64_t batch_size = 32;
  std::array<int64_t, 2> image_size = {256, 256};  // (height, width)
  bool shuffle = true;
  std::optional<uint32_t> seed{};         // none: drawn at random, as Keras does
  double validation_split = 0;            // 0: None
  std::string subset{};                   // "training" | "validation" | "both" | "" (None)
  std::string interpolation = "bilinear"; // "bilinear" | "nearest" | "bicubic" | "area"
  bool follow_links = false;
  bool crop_to_aspect_ratio = false;
  bool pad_to_aspect_ratio = false;
  bool verbose = true;                    // print "Found N files belonging to K classes."
  // minidl's own: decoding threads and how many finished batches may wait.
  int num_threads = 1;
  int prefetch_batches = 2;
};

class ImageDataset final : public BatchSource {
 public:
  struct Spec;  // what every image becomes (size, channels, labels, method): io/image_dataset_internal.h
  // Made by image_dataset_from_directory; labels[i] is the class of paths[i].
  ImageDataset(std::vector<std::string> paths, std::vector<int> labels, std::vector<std::string> class_names,
               std::shared_ptr<const Spec> spec, bool shuffle_each_epoch, uint32_t seed);
  ~ImageDataset() override;
  ImageDataset(const ImageDataset&) = delete;
  ImageDataset& operator=(const ImageDataset&) = delete;

  int64_t num_samples() const override { return static_cast<int64_t>(paths_.size()); }
  int64_t num_batches() const override;
  void begin_epoch(int epoch) override;
  bool next_batch(Tensor& x, Tensor& y) override;

  const std::vector<std::string>& class_names() const { return class_names_; }
  const std::vector<std::string>& file_paths() const { return paths_; }
  // The class index of each file of file_paths() (empty without labels).
  const std::vector<int>& labels() const { return labels_; }
  // One image's shape: (height, width, channels).
  Shape element_shape() const;
  // Every image and label in file_paths() order, decoded on the calling thread:
  // x [N, H, W, C] and y as a batch holds it (undefined without labels). For
  // folders that fit in memory.
  std::pair<Tensor, Tensor> to_arrays() const;

 private:
  struct Stream;
  std::vector<std::string> paths_;
  std::vector<int> labels_;
  std::vector<std::string> class_names_;
  std::shared_ptr<const Spec> spec_;
  bool shuffle_each_epoch_ = false;
  uint32_t seed_ = 0;
  std::unique_ptr<Stream> stream_;
};

// subset "training", "validation" or none; "both" is image_dataset_from_directory_both.
std::shared_ptr<ImageDataset> image_dataset_from_directory(const std::string& directory,
                                                           const ImageDatasetOptions& options = {});

// subset "both" (or left empty): the training and the validation datasets.
std::pair<std::shared_ptr<ImageDataset>, std::shared_ptr<ImageDataset>> image_dataset_from_directory_both(
    const std::string& directory, ImageDatasetOptions options);

// NumPy's RandomState(seed).shuffle of n items, as a permutation: element i of
// the result is the original index now at position i. Exposed for the tests.
std::vector<int64_t> numpy_legacy_shuffle_order(int64_t n, uint32_t seed);

}  // namespace minidl
