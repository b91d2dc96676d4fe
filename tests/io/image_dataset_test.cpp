// tests/io/image_dataset_test.cpp — image_dataset_from_directory against Keras's rules on folders
// built here: class order, file order, NumPy's seeded shuffle, the split, label
// modes, resizing options, streaming (every file once per epoch, reshuffled per
// epoch, repeatable, the same on 1 and 2 threads), and the argument and folder
// errors with Keras's messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "core/errors.h"
#include "io/image_dataset.h"
#include "io/image_dataset_files.h"
#include "support/files.h"

using namespace minidl;
using namespace minidl::testing;
namespace fs = std::filesystem;

namespace {

// A constant gray image of value v, saved as `name` (its suffix picks the format).
void gray_image(const fs::path& path, float v, int64_t h = 4, int64_t w = 4) {
  fs::create_directories(path.parent_path());
  const std::vector<float> px(static_cast<size_t>(h * w), v);
  save_image(path.string(), px.data(), h, w, 1);
}

// root/<class>/img_<i>.png for the given per-class counts; image k (counting
// across classes) has value k + 1, so a batch says which files it holds.
fs::path make_folder(const std::vector<std::pair<std::string, int>>& classes) {
  const fs::path root = fresh_dir() / "data";
  int k = 0;
  for (const auto& [name, count] : classes)
    for (int i = 0; i < count; ++i) {
      char file[32];
      std::snprintf(file, sizeof file, "img_%03d.png", i);
      gray_image(root / name / file, static_cast<float>(++k));
    }
  return root;
}

ImageDatasetOptions gray(ImageDatasetOptions o) {
  o.color_mode = "grayscale";
  o.image_size = {4, 4};
  o.verbose = false;
  return o;
}

// The first pixel of each image of one full pass, in order.
std::vector<int> pass_values(ImageDataset& ds, int epoch) {
  ds.begin_epoch(epoch);
  std::vector<int> values;
  Tensor x, y;
  while (ds.next_batch(x, y))
    for (int64_t i = 0; i < x.dim(0); ++i) values.push_back(static_cast<int>(x[i * 16]));
  return values;
}

template <class E, class F>
void expect_error_containing(F&& f, const std::string& text) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing: " << text;
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

TEST(ImageDataset, NumpyLegacyShuffleMatchesNumpy) {
  // From NumPy 1.24: x = list(range(n)); np.random.RandomState(seed).shuffle(x).
  EXPECT_EQ(numpy_legacy_shuffle_order(10, 1337), (std::vector<int64_t>{6, 3, 0, 4, 5, 2, 1, 9, 8, 7}));
  EXPECT_EQ(numpy_legacy_shuffle_order(7, 0), (std::vector<int64_t>{6, 2, 1, 3, 0, 5, 4}));
  const auto big = numpy_legacy_shuffle_order(300, 123456);
  EXPECT_EQ(std::vector<int64_t>(big.begin(), big.begin() + 12),
            (std::vector<int64_t>{233, 40, 237, 236, 85, 50, 91, 172, 6, 144, 1, 12}));
}

TEST(ImageDataset, ClassesInAlphanumericOrderFilesSortedWithoutShuffle) {
  const fs::path root = make_folder({{"b_dogs", 2}, {"a_cats", 3}});
  fs::create_directories(root / ".hidden");
  gray_image(root / ".hidden" / "x.png", 99);
  std::ofstream(root / "a_cats" / "readme.txt") << "not an image";
  gray_image(root / "a_cats" / "deeper" / "IMG_9.PNG", 50);  // sub-folders count, suffixes in any case
  auto ds = image_dataset_from_directory(root.string(), gray({.shuffle = false}));
  EXPECT_EQ(ds->class_names(), (std::vector<std::string>{"a_cats", "b_dogs"}));
  const std::vector<std::string> want = {
      (root / "a_cats" / "img_000.png").string(), (root / "a_cats" / "img_001.png").string(),
      (root / "a_cats" / "img_002.png").string(), (root / "a_cats" / "deeper" / "IMG_9.PNG").string(),
      (root / "b_dogs" / "img_000.png").string(), (root / "b_dogs" / "img_001.png").string()};
  EXPECT_EQ(ds->file_paths(), want);
  EXPECT_EQ(ds->labels(), (std::vector<int>{0, 0, 0, 0, 1, 1}));
  // b_dogs was written first, so its images have values 1, 2; a_cats 3, 4, 5.
  EXPECT_EQ(pass_values(*ds, 0), (std::vector<int>{3, 4, 5, 50, 1, 2}));
}

TEST(ImageDataset, ClassNamesChooseOrderAndSubset) {
  const fs::path root = make_folder({{"x", 1}, {"y", 2}, {"z", 1}});
  auto ds = image_dataset_from_directory(root.string(), gray({.class_names = {"z", "x"}, .shuffle = false}));
  EXPECT_EQ(ds->class_names(), (std::vector<std::string>{"z", "x"}));
  EXPECT_EQ(ds->labels(), (std::vector<int>{0, 1}));
  EXPECT_EQ(pass_values(*ds, 0), (std::vector<int>{4, 1}));
  expect_error_containing<ValueError>(
      [&] { image_dataset_from_directory(root.string(), gray({.class_names = {"x", "w"}})); },
      "The `class_names` passed did not match the names of the subdirectories of the target directory. "
      "Expected: ['x', 'y', 'z'] (or a subset of it), but received: class_names=['x', 'w']");
}

TEST(ImageDataset, SeededShuffleAndSplitFollowKeras) {
  const fs::path root = make_folder({{"a", 4}, {"b", 6}});
  auto sorted = image_dataset_from_directory(root.string(), gray({.shuffle = false}));
  const std::vector<std::string> all = sorted->file_paths();
  // Keras shuffles the sorted list with RandomState(1337): order 6 3 0 4 5 2 1 9 8 7,
  // then int(0.2 * 10) = 2 files go to validation, the last two.
  const auto opts = gray({.seed = 1337, .validation_split = 0.2, .subset = "training"});
  auto train = image_dataset_from_directory(root.string(), opts);
  auto val = image_dataset_from_directory(root.string(), gray({.seed = 1337, .validation_split = 0.2, .subset = "validation"}));
  const std::vector<int> perm = {6, 3, 0, 4, 5, 2, 1, 9, 8, 7};
  std::vector<std::string> want_train, want_val;
  for (int i = 0; i < 8; ++i) want_train.push_back(all[perm[i]]);
  for (int i = 8; i < 10; ++i) want_val.push_back(all[perm[i]]);
  EXPECT_EQ(train->file_paths(), want_train);
  EXPECT_EQ(val->file_paths(), want_val);
  EXPECT_EQ(train->labels(), (std::vector<int>{1, 0, 0, 1, 1, 0, 0, 1}));
  auto [both_train, both_val] = image_dataset_from_directory_both(root.string(), gray({.seed = 1337, .validation_split = 0.2}));
  EXPECT_EQ(both_train->file_paths(), want_train);
  EXPECT_EQ(both_val->file_paths(), want_val);
  // The validation half of "both" is read in its own order every epoch.
  EXPECT_EQ(pass_values(*both_val, 0), pass_values(*both_val, 3));
}

TEST(ImageDataset, LabelModes) {
  const fs::path root = make_folder({{"a", 2}, {"b", 1}, {"c", 1}});
  Tensor x, y;
  auto ints = image_dataset_from_directory(root.string(), gray({.batch_size = 8, .shuffle = false}));
  ASSERT_TRUE(ints->next_batch(x, y));
  EXPECT_EQ(x.shape(), (Shape{4, 4, 4, 1}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{0, 0, 1, 2}));
  auto cat = image_dataset_from_directory(root.string(), gray({.label_mode = "categorical", .batch_size = 8, .shuffle = false}));
  ASSERT_TRUE(cat->next_batch(x, y));
  EXPECT_EQ(y.shape(), (Shape{4, 3}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}));
  auto none = image_dataset_from_directory(root.string(), gray({.label_mode = "", .batch_size = 8, .shuffle = false}));
  ASSERT_TRUE(none->next_batch(x, y));
  EXPECT_FALSE(y.defined());
  EXPECT_TRUE(none->class_names().empty());
  expect_error_containing<ValueError>(
      [&] { image_dataset_from_directory(root.string(), gray({.label_mode = "binary"})); },
      "When passing `label_mode=\"binary\"`, there must be exactly 2 class_names. Received: class_names=['a', 'b', 'c']");
  const fs::path two = make_folder({{"no", 1}, {"yes", 2}});
  auto bin = image_dataset_from_directory(two.string(), gray({.label_mode = "binary", .shuffle = false}));
  ASSERT_TRUE(bin->next_batch(x, y));
  EXPECT_EQ(y.shape(), (Shape{3, 1}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{0, 1, 1}));
}

TEST(ImageDataset, StreamsEveryFileOncePerEpochReshuffledAndRepeatable) {
  const fs::path root = make_folder({{"a", 11}, {"b", 12}});  // 23 files, batches of 4: 6 batches
  const auto opts = gray({.batch_size = 4, .seed = 7, .prefetch_batches = 2});
  auto ds = image_dataset_from_directory(root.string(), opts);
  EXPECT_EQ(ds->num_samples(), 23);
  EXPECT_EQ(ds->num_batches(), 6);
  const std::vector<int> e0 = pass_values(*ds, 0), e1 = pass_values(*ds, 1);
  std::vector<int> want(23);
  for (int i = 0; i < 23; ++i) want[i] = i + 1;
  for (const auto* e : {&e0, &e1}) {
    std::vector<int> s = *e;
    std::sort(s.begin(), s.end());
    EXPECT_EQ(s, want);
  }
  EXPECT_NE(e0, e1);
  auto again = image_dataset_from_directory(root.string(), opts);
  EXPECT_EQ(pass_values(*again, 1), e1);
  EXPECT_EQ(pass_values(*again, 0), e0);
  auto two_threads = image_dataset_from_directory(root.string(), gray({.batch_size = 4, .seed = 7, .num_threads = 2}));
  EXPECT_EQ(pass_values(*two_threads, 0), e0);
  // A pass abandoned half-way, then a new one: the new pass is complete.
  Tensor x, y;
  ds->begin_epoch(2);
  ASSERT_TRUE(ds->next_batch(x, y));
  EXPECT_EQ(pass_values(*ds, 0), e0);
  // to_arrays: every file in file_paths() order.
  auto [ax, ay] = ds->to_arrays();
  EXPECT_EQ(ax.shape(), (Shape{23, 4, 4, 1}));
  EXPECT_EQ(ay.numel(), 23);
}

TEST(ImageDataset, ResizeCropAndPad) {
  // One 4 x 8 image whose column c has value 10 c + 10.
  const fs::path root = fresh_dir() / "data";
  fs::create_directories(root / "only");
  std::vector<float> px(32);
  for (int y = 0; y < 4; ++y)
    for (int c = 0; c < 8; ++c) px[y * 8 + c] = static_cast<float>(10 * c + 10);
  save_image((root / "only" / "wide.png").string(), px.data(), 4, 8, 1);
  Tensor x, y;
  // crop_to_aspect_ratio to 4 x 4: the centred 4 x 4 window, columns 2..5.
  auto crop = image_dataset_from_directory(root.string(), gray({.crop_to_aspect_ratio = true}));
  ASSERT_TRUE(crop->next_batch(x, y));
  EXPECT_EQ(std::vector<float>(x.data(), x.data() + 4), (std::vector<float>{30, 40, 50, 60}));
  // pad_to_aspect_ratio to 4 x 4: resized to 2 x 4 (nearest keeps columns 1, 3, 5, 7), a zero row above and below.
  auto pad = image_dataset_from_directory(root.string(), gray({.interpolation = "nearest", .pad_to_aspect_ratio = true}));
  ASSERT_TRUE(pad->next_batch(x, y));
  const std::vector<float> want = {0, 0, 0, 0, 20, 40, 60, 80, 20, 40, 60, 80, 0, 0, 0, 0};
  EXPECT_EQ(x.to_vector(), want);
  // Plain resize to 2 x 2, bilinear: columns sampled at 1.5 and 5.5 (half-pixel centres).
  auto plain = image_dataset_from_directory(root.string(), [] {
    auto o = gray({});
    o.image_size = {2, 2};
    return o;
  }());
  ASSERT_TRUE(plain->next_batch(x, y));
  EXPECT_EQ(x.to_vector(), (std::vector<float>{25, 65, 25, 65}));
}

TEST(ImageDataset, ArgumentErrorsAreKeras) {
  const fs::path root = make_folder({{"a", 2}, {"b", 2}});
  const std::string dir = root.string();
  expect_error_containing<ValueError>([&] { image_dataset_from_directory(dir, gray({.validation_split = 0.2})); },
                                      "If `subset` is set, `validation_split` must be set, and inversely.");
  expect_error_containing<ValueError>([&] { image_dataset_from_directory(dir, gray({.subset = "training"})); },
                                      "If `subset` is set, `validation_split` must be set, and inversely.");
  expect_error_containing<ValueError>(
      [&] { image_dataset_from_directory(dir, gray({.validation_split = 0.2, .subset = "training"})); },
      "If using `validation_split` and shuffling the data, you must provide a `seed` argument");
  expect_error_containing<ValueError>(
      [&] { image_dataset_from_directory(dir, gray({.seed = 1, .validation_split = 1.5, .subset = "training"})); },
      "`validation_split` must be between 0 and 1, received: 1.5");
  expect_error_containing<ValueError>(
      [&] { image_dataset_from_directory(dir, gray({.seed = 1, .validation_split = 0.5, .subset = "test"})); },
      "`subset` must be either \"training\", \"validation\" or \"both\", received: test");
  expect_error_containing<ValueError>([&] { image_dataset_from_directory(dir, gray({.label_mode = "sparse"})); },
                                      "Received: label_mode=sparse");
  expect_error_containing<ValueError>(
      [&] {
        auto o = gray({});
        o.color_mode = "cmyk";
        image_dataset_from_directory(dir, o);
      },
      "Received: color_mode=cmyk");
  expect_error_containing<ValueError>([&] { image_dataset_from_directory(dir, gray({.interpolation = "lanczos3"})); },
                                      "interpolation=lanczos3");
  expect_error_containing<ValueError>(
      [&] { image_dataset_from_directory(dir, gray({.crop_to_aspect_ratio = true, .pad_to_aspect_ratio = true})); },
      "Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to `True`.");
  expect_error_containing<ValueError>([&] { image_dataset_from_directory(dir, gray({.labels = "", .class_names = {"a"}})); },
                                      "When `labels=None` (no labels), argument `class_names` cannot be specified.");
}

TEST(ImageDataset, FolderErrorsNameTheFolderOrFile) {
  const fs::path base = fresh_dir();
  const std::string missing = (base / "nope").string();
  expect_error_containing<IOError>([&] { image_dataset_from_directory(missing, gray({})); }, missing);
  // No images: only text files.
  fs::create_directories(base / "text" / "a");
  std::ofstream(base / "text" / "a" / "x.txt") << "x";
  fs::create_directories(base / "flat");
  std::ofstream(base / "flat" / "y.txt") << "y";
  expect_error_containing<ValueError>(
      [&] { image_dataset_from_directory((base / "flat").string(), gray({.labels = ""})); },
      "No images found in directory " + (base / "flat").string() +
          ". Allowed formats: ('.bmp', '.gif', '.jpeg', '.jpg', '.png')");
  // An empty class folder (here: one holding only a text file).
  gray_image(base / "text" / "b" / "ok.png", 1);
  expect_error_containing<ValueError>([&] { image_dataset_from_directory((base / "text").string(), gray({})); },
                                      (base / "text" / "a").string());
}

TEST(ImageDataset, ADamagedFileFailsInTheReadingThreadNamingIt) {
  const fs::path root = make_folder({{"a", 5}, {"b", 5}});
  const fs::path bad = root / "b" / "img_002.png";
  std::ofstream(bad, std::ios::trunc) << "\x89PNG\r\n\x1a\n this is not a png body";
  for (int threads : {1, 2}) {
    auto ds = image_dataset_from_directory(root.string(), gray({.batch_size = 2, .shuffle = false, .num_threads = threads}));
    ds->begin_epoch(0);
    Tensor x, y;
    int good_batches = 0;
    try {
      while (ds->next_batch(x, y)) ++good_batches;
      ADD_FAILURE() << "no error for the damaged file";
    } catch (const IOError& e) {
      EXPECT_NE(std::string(e.what()).find(bad.string()), std::string::npos) << e.what();
    }
    EXPECT_EQ(good_batches, 3) << threads;  // sorted: the damaged file is the 8th, in batch 3 (0-based)
    // The next pass starts afresh and meets the same file at the same place.
    EXPECT_THROW(pass_values(*ds, 1), IOError);
  }
}

}  // namespace
