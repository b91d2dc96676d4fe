// tools/cmd_predict.cpp — `minidl predict MODEL --input FILE.h5:DATASET --output FILE.h5:DATASET [--batch-size N]`:
// runs the model in inference mode on a dataset (first axis = batch) and stores the
// prediction as a float32 dataset.
// `--x DIR` (instead of --input) predicts every image under a folder, found
// recursively and taken in sorted path order (image_dataset_from_directory
// with labels=None, shuffle=False); --files OUT.txt writes that order, one
// path per line, so row i of the prediction can be matched to its image.
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>

#include "core/errors.h"
#include "io/atomic_file.h"
#include "tools/commands.h"
#include "tools/hdf5_arg.h"
#include "tools/image_folder_arg.h"
#include "tools/number_arg.h"

namespace minidl::cli {

namespace {
struct PredictArgs {
  ModelSource source;
  std::string input, x, output, files;
  int64_t batch_size = 32;  // Keras's predict default
  ImageFolderArgs folder;
};

Tensor predict_folder(const PredictArgs& args, ModelImpl& model) {
  ImageDatasetOptions o = image_folder_options(args.folder, model, args.batch_size);
  o.labels = "";
  o.label_mode = "";
  o.shuffle = false;
  o.verbose = false;
  auto images = image_dataset_from_directory(args.x, o);
  Tensor y = model.predict(*images);
  if (!args.files.empty())
    atomic_write(args.files, [&](const std::string& tmp) {
      std::ofstream out(tmp, std::ios::trunc);
      for (const std::string& p : images->file_paths()) out << p << '\n';
      if (!out.flush()) throw IOError(fmt::format("{}: cannot write the file list", args.files));
    });
  return y;
}
}  // namespace

Command add_predict_command(CLI::App& app) {
  auto args = std::make_shared<PredictArgs>();
  CLI::App* sub =
      app.add_subcommand("predict", "run a model on an HDF5 dataset or a folder of images and write the prediction");
  add_model_options(*sub, args->source);
  auto* input = add_dataset_option(*sub, "-i,--input", args->input,
                                   "input FILE.h5:DATASET (float32/float64, first axis = batch)")
                    ->required(false);
  auto* x = sub->add_option("--x", args->x, "a folder of images (instead of --input)")->check(CLI::ExistingDirectory);
  input->excludes(x);
  add_dataset_option(*sub, "-o,--output", args->output, "output FILE.h5:DATASET (float32; the dataset is replaced)");
  add_whole_number_option(*sub, "-b,--batch-size", args->batch_size, "samples per inference batch");
  sub->add_option("--files", args->files, "with --x DIR: write the image paths in prediction order, one per line")
      ->group("image folder (--x DIR)");
  add_image_folder_options(*sub, args->folder);
  return {sub, [args] {
            if (args->input.empty() && args->x.empty()) throw UsageError("give --input FILE.h5:DATASET or --x DIR");
            const DatasetRef out = parse_dataset_ref(args->output);
            check_output_file(out.file, "--output");
            if (!args->files.empty()) check_output_file(args->files, "--files");
            if (!args->x.empty()) {
              auto model = load_model_source(args->source);
              write_dataset(out, predict_folder(*args, *model));
              return;
            }
            const DatasetRef in = parse_dataset_ref(args->input);
            check_input_file(in.file, "--input");
            auto model = load_model_source(args->source);
            const Tensor x = read_dataset(in);
            MINIDL_CHECK(x.rank() >= 1, ValueError, "{}:{}: expected a batch (rank >= 1), received a scalar", in.file,
                         in.dataset);
            write_dataset(out, model->predict(x, args->batch_size));
          }};
}

}  // namespace minidl::cli
