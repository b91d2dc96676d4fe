// tools/image_folder_arg.cpp — `--x DIR` options and their defaults from the model (tools/image_folder_arg.h).
#include "tools/image_folder_arg.h"

#include <fmt/format.h>

#include <filesystem>
#include <sstream>

#include "tools/number_arg.h"
#include "train/model.h"

namespace minidl::cli {

void add_image_folder_options(CLI::App& sub, ImageFolderArgs& args) {
  const char* group = "image folder (--x DIR)";
  sub.add_option("--image-size", args.image_size, "H,W to resize images to (default: the model's input)")
      ->group(group);
  sub.add_option("--color-mode", args.color_mode, "grayscale, rgb or rgba (default: by the model's input channels)")
      ->check(CLI::IsMember({"grayscale", "rgb", "rgba"}))
      ->group(group);
  sub.add_option("--interpolation", args.interpolation, "bilinear, nearest, bicubic or area")
      ->check(CLI::IsMember({"bilinear", "nearest", "bicubic", "area"}))
      ->group(group);
  sub.add_flag("--crop-to-aspect-ratio", args.crop_to_aspect_ratio, "crop to the target's aspect ratio, then resize")
      ->group(group);
  sub.add_flag("--pad-to-aspect-ratio", args.pad_to_aspect_ratio, "resize inside the target, pad with zeros")
      ->group(group);
  add_whole_number_option(sub, "--seed", args.seed, "shuffle seed", 0, 4294967295LL)->group(group);
  add_whole_number_option(sub, "--decode-threads", args.threads, "threads decoding images", 1, 64)->group(group);
}

bool is_image_folder(const std::string& x) {
  std::error_code ec;
  return std::filesystem::is_directory(x, ec);
}

ImageDatasetOptions image_folder_options(const ImageFolderArgs& args, const ModelImpl& model, int64_t batch_size) {
  ImageDatasetOptions o;
  o.batch_size = batch_size;
  o.interpolation = args.interpolation;
  o.crop_to_aspect_ratio = args.crop_to_aspect_ratio;
  o.pad_to_aspect_ratio = args.pad_to_aspect_ratio;
  o.num_threads = args.threads;
  if (args.seed) o.seed = static_cast<uint32_t>(*args.seed);
  Shape in;
  if (model.inputs().size() == 1) in = model.inputs()[0].shape();
  const bool image_input = in.size() == 4 && in[1] > 0 && in[2] > 0 && (in[3] == 1 || in[3] == 3 || in[3] == 4);
  if (!args.image_size.empty()) {
    std::istringstream s(args.image_size);
    int64_t h = 0, w = 0;
    char comma = 0;
    if (!(s >> h >> comma >> w) || comma != ',' || h <= 0 || w <= 0 || !s.eof())
      throw UsageError(fmt::format("--image-size: expected H,W (two positive integers), received '{}'", args.image_size));
    o.image_size = {h, w};
  } else if (image_input) {
    o.image_size = {in[1], in[2]};
  } else {
    throw UsageError(fmt::format(
        "--x DIR: the model's input shape {} is not (None, H, W, C) with C = 1, 3 or 4: give --image-size and "
        "--color-mode",
        shape_str(in)));
  }
  if (!args.color_mode.empty())
    o.color_mode = args.color_mode;
  else if (image_input)
    o.color_mode = in[3] == 1 ? "grayscale" : in[3] == 3 ? "rgb" : "rgba";
  else
    throw UsageError("--x DIR: give --color-mode (the model's input does not say how many channels)");
  return o;
}

}  // namespace minidl::cli
