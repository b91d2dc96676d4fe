// io/image_dataset_stream.cpp — ImageDataset as a BatchSource: one image's loading, batches
// decoded on background threads and handed to the reader in order (io/image_dataset.h).
//
// Batch b of a pass is decoded by whichever worker claims it; claims run at
// most prefetch_batches ahead of the batch the reader waits for, so finished
// and in-flight batches together stay a few batches whatever the folder's
// size. A worker that fails stores the exception in place of its batch; the
// reader rethrows it when it reaches that batch, so an error surfaces in the
// training thread at the same step on any thread count.
#include <algorithm>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>

#include "core/errors.h"
#include "io/image_dataset_internal.h"

namespace minidl {

namespace image_dataset_detail {

namespace {

// tf.image.resize_with_pad: resize to fit inside the target keeping the
// aspect ratio, then pad with zeros, centred (floor of half the slack).
void resize_with_pad(const DecodedImage& img, const ImageDataset::Spec& s, Scratch& scratch, float* dst) {
  const double ratio = std::max(static_cast<double>(img.width) / static_cast<double>(s.width),
                                static_cast<double>(img.height) / static_cast<double>(s.height));
  const double rh_f = static_cast<double>(img.height) / ratio, rw_f = static_cast<double>(img.width) / ratio;
  const auto rh = std::max<int64_t>(1, static_cast<int64_t>(std::floor(rh_f)));
  const auto rw = std::max<int64_t>(1, static_cast<int64_t>(std::floor(rw_f)));
  const auto top = std::max<int64_t>(0, static_cast<int64_t>(std::floor((static_cast<double>(s.height) - rh_f) / 2)));
  const auto left = std::max<int64_t>(0, static_cast<int64_t>(std::floor((static_cast<double>(s.width) - rw_f) / 2)));
  scratch.resized.resize(static_cast<size_t>(rh * rw * s.channels));
  ops::resize_image(img.pixels.data(), img.height, img.width, s.channels, scratch.resized.data(), rh, rw,
                    s.interpolation);
  std::fill(dst, dst + s.height * s.width * s.channels, 0.0f);
  for (int64_t y = 0; y < rh && top + y < s.height; ++y) {
    const int64_t cols = std::min(rw, s.width - left);
    std::copy(scratch.resized.data() + y * rw * s.channels, scratch.resized.data() + (y * rw + cols) * s.channels,
              dst + ((top + y) * s.width + left) * s.channels);
  }
}

// keras.preprocessing.image.smart_resize: the largest centred window of the
// target's aspect ratio, resized to the target.
void crop_and_resize(const DecodedImage& img, const ImageDataset::Spec& s, Scratch& scratch, float* dst) {
  const int64_t H = img.height, W = img.width, C = s.channels;
  const int64_t ch = std::max<int64_t>(
      std::min<int64_t>(H, static_cast<int64_t>(static_cast<double>(W * s.height) / static_cast<double>(s.width))), 1);
  const int64_t cw = std::max<int64_t>(
      std::min<int64_t>(W, static_cast<int64_t>(static_cast<double>(H * s.width) / static_cast<double>(s.height))), 1);
  const auto top = static_cast<int64_t>(static_cast<double>(H - ch) / 2);
  const auto left = static_cast<int64_t>(static_cast<double>(W - cw) / 2);
  scratch.window.resize(static_cast<size_t>(ch * cw * C));
  for (int64_t y = 0; y < ch; ++y)
    std::copy(img.pixels.data() + ((top + y) * W + left) * C, img.pixels.data() + ((top + y) * W + left + cw) * C,
              scratch.window.data() + y * cw * C);
  ops::resize_image(scratch.window.data(), ch, cw, C, dst, s.height, s.width, s.interpolation);
}

}  // namespace

void load_image(const std::string& path, const ImageDataset::Spec& spec, Scratch& scratch, float* dst) {
  decode_image_file(path, spec.color, scratch.image);
  const DecodedImage& img = scratch.image;
  if (spec.crop_to_aspect_ratio)
    crop_and_resize(img, spec, scratch, dst);
  else if (spec.pad_to_aspect_ratio)
    resize_with_pad(img, spec, scratch, dst);
  else
    ops::resize_image(img.pixels.data(), img.height, img.width, spec.channels, dst, spec.height, spec.width,
                      spec.interpolation);
}

void load_batch(const std::vector<std::string>& paths, const std::vector<int>& labels,
                const std::vector<int64_t>& order, int64_t first, int64_t n, const ImageDataset::Spec& spec,
                Scratch& scratch, Tensor& x, Tensor& y) {
  const int64_t per_image = spec.height * spec.width * spec.channels;
  x = Tensor::empty({n, spec.height, spec.width, spec.channels});
  for (int64_t i = 0; i < n; ++i) load_image(paths[order[first + i]], spec, scratch, x.data() + i * per_image);
  if (spec.label_mode.empty()) {
    y = Tensor();
    return;
  }
  if (spec.label_mode == "categorical") {
    y = Tensor::zeros({n, spec.num_classes});
    for (int64_t i = 0; i < n; ++i) y[i * spec.num_classes + labels[order[first + i]]] = 1.0f;
    return;
  }
  y = spec.label_mode == "binary" ? Tensor::empty({n, 1}) : Tensor::empty({n});
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(labels[order[first + i]]);
}

}  // namespace image_dataset_detail

using image_dataset_detail::Scratch;

// One pass's workers and the batches they have finished.
struct ImageDataset::Stream {
  struct Batch {
    Tensor x, y;
    std::exception_ptr error;
  };
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::thread> workers;
  std::vector<int64_t> order;
  std::map<int64_t, Batch> ready;
  int64_t next_claim = 0, next_read = 0, num_batches = 0;
  bool stop = false;

  ~Stream() { halt(); }

  void halt() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    changed.notify_all();
    for (std::thread& t : workers) t.join();
    workers.clear();
  }

  void work(const ImageDataset& ds) {
    Scratch scratch;
    const Spec& spec = *ds.spec_;
    for (;;) {
      int64_t b = 0;
      {
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, [&] {
          return stop || next_claim >= num_batches || next_claim < next_read + spec.prefetch_batches;
        });
        if (stop || next_claim >= num_batches) return;
        b = next_claim++;
      }
      Batch batch;
      try {
        const int64_t first = b * spec.batch_size;
        const int64_t n = std::min(spec.batch_size, static_cast<int64_t>(order.size()) - first);
        image_dataset_detail::load_batch(ds.paths_, ds.labels_, order, first, n, spec, scratch, batch.x, batch.y);
      } catch (...) {
        batch.error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex);
        ready.emplace(b, std::move(batch));
      }
      changed.notify_all();
    }
  }
};

ImageDataset::ImageDataset(std::vector<std::string> paths, std::vector<int> labels,
                           std::vector<std::string> class_names, std::shared_ptr<const Spec> spec,
                           bool shuffle_each_epoch, uint32_t seed)
    : paths_(std::move(paths)),
      labels_(std::move(labels)),
      class_names_(std::move(class_names)),
      spec_(std::move(spec)),
      shuffle_each_epoch_(shuffle_each_epoch),
      seed_(seed) {}

ImageDataset::~ImageDataset() = default;

int64_t ImageDataset::num_batches() const {
  return (num_samples() + spec_->batch_size - 1) / spec_->batch_size;
}

Shape ImageDataset::element_shape() const { return Shape{spec_->height, spec_->width, spec_->channels}; }

void ImageDataset::begin_epoch(int epoch) {
  stream_.reset();  // stops and joins the previous pass's workers
  auto stream = std::make_unique<Stream>();
  stream->order.resize(paths_.size());
  std::iota(stream->order.begin(), stream->order.end(), int64_t{0});
  if (shuffle_each_epoch_) {
    // Epoch e's order depends on (seed, e) alone.
    const uint64_t mixed = (static_cast<uint64_t>(seed_) << 32 | static_cast<uint32_t>(epoch)) * 0x9E3779B97F4A7C15ull;
    const std::vector<int64_t> perm =
        numpy_legacy_shuffle_order(num_samples(), static_cast<uint32_t>(mixed >> 32) ^ static_cast<uint32_t>(mixed));
    stream->order = perm;
  }
  stream->num_batches = num_batches();
  const int threads = std::max(1, std::min<int>(spec_->num_threads, static_cast<int>(std::max<int64_t>(1, num_batches()))));
  for (int t = 0; t < threads; ++t) stream->workers.emplace_back([s = stream.get(), this] { s->work(*this); });
  stream_ = std::move(stream);
}

bool ImageDataset::next_batch(Tensor& x, Tensor& y) {
  if (!stream_) begin_epoch(0);
  Stream& s = *stream_;
  Stream::Batch batch;
  {
    std::unique_lock<std::mutex> lock(s.mutex);
    if (s.next_read >= s.num_batches) return false;
    s.changed.wait(lock, [&] { return s.ready.count(s.next_read) > 0; });
    auto it = s.ready.find(s.next_read);
    batch = std::move(it->second);
    s.ready.erase(it);
    ++s.next_read;
  }
  s.changed.notify_all();
  if (batch.error) {
    stream_.reset();  // the pass ends here; the next begin_epoch starts afresh
    std::rethrow_exception(batch.error);
  }
  x = std::move(batch.x);
  y = std::move(batch.y);
  return true;
}

std::pair<Tensor, Tensor> ImageDataset::to_arrays() const {
  std::vector<int64_t> order(paths_.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  Scratch scratch;
  Tensor x, y;
  image_dataset_detail::load_batch(paths_, labels_, order, 0, num_samples(), *spec_, scratch, x, y);
  return {x, y};
}

}  // namespace minidl
