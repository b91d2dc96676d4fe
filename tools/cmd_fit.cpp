// tools/cmd_fit.cpp — `minidl fit MODEL --x F:D --y F:D --loss NAME --optimizer NAME --lr F [--epochs N]
//  [--batch-size N] [--no-shuffle] [--verbose] --save OUT`: compiles the loaded model
// with a fresh optimizer at the given learning rate, trains it and saves it.
// `--x DIR` trains on a folder of images instead, one sub-folder per class
// (labels inferred; --y is not given), streamed by image_dataset_from_directory
// with the folder options of tools/image_folder_arg.h; --validation-split F
// (with --seed) holds the last fraction of the seeded shuffle out for validation.
#include <cstdint>
#include <memory>
#include <string>

#include "tools/commands.h"
#include "tools/hdf5_arg.h"
#include "tools/image_folder_arg.h"
#include "tools/number_arg.h"

namespace minidl::cli {

namespace {
struct FitArgs {
  ModelSource source;
  std::string x, y, loss, optimizer, save;
  double lr = 0;
  int epochs = 1;
  int64_t batch_size = 32;  // Keras's fit default
  bool no_shuffle = false;
  bool verbose = false;
  ImageFolderArgs folder;
};

// Keras's label_mode for a folder, by the loss the model is trained with.
std::string label_mode_for(const std::string& loss) {
  if (loss == "categorical_crossentropy" || loss == "CategoricalCrossentropy") return "categorical";
  if (loss == "binary_crossentropy" || loss == "BinaryCrossentropy") return "binary";
  return "int";
}

void fit_on_folder(const FitArgs& args, ModelImpl& model) {
  if (!args.y.empty()) throw UsageError("--y: not used with --x DIR (labels come from the class sub-folders)");
  ImageDatasetOptions o = image_folder_options(args.folder, model, args.batch_size);
  o.label_mode = label_mode_for(args.loss);
  o.shuffle = !args.no_shuffle;
  o.verbose = args.verbose;
  FitOptions fit{.epochs = args.epochs, .verbose = args.verbose ? 2 : 0};
  if (args.folder.validation_split > 0) {
    if (!args.folder.seed && o.shuffle) o.seed = 1337;  // a fixed split unless --seed says otherwise
    o.validation_split = args.folder.validation_split;
    auto [train, val] = image_dataset_from_directory_both(args.x, o);
    fit.validation_source = val.get();
    model.fit(*train, fit);
    return;
  }
  auto train = image_dataset_from_directory(args.x, o);
  model.fit(*train, fit);
}
}  // namespace

Command add_fit_command(CLI::App& app) {
  auto args = std::make_shared<FitArgs>();
  CLI::App* sub = app.add_subcommand("fit", "train a model on HDF5 datasets or a folder of images and save it");
  add_model_options(*sub, args->source);
  sub->add_option("--x", args->x, "inputs FILE.h5:DATASET (first axis = batch), or DIR: a folder of images")
      ->required()
      ->check([](const std::string& v) {
        if (is_image_folder(v)) return std::string();
        try {
          parse_dataset_ref(v);
        } catch (const std::exception& e) {
          return std::string(e.what());
        }
        return std::string();
      });
  add_dataset_option(*sub, "--y", args->y, "targets FILE.h5:DATASET (not with --x DIR)")->required(false);
  sub->add_option("--loss", args->loss, "Keras loss name (mse, categorical_crossentropy, ...)")->required();
  sub->add_option("--optimizer", args->optimizer, "Keras optimizer name (sgd, adam, rmsprop, ...)")->required();
  add_positive_number_option(*sub, "--lr", args->lr, "learning rate")->required();
  add_whole_number_option(*sub, "--epochs", args->epochs, "epochs");
  add_whole_number_option(*sub, "-b,--batch-size", args->batch_size, "samples per gradient step");
  sub->add_flag("--no-shuffle", args->no_shuffle, "keep the sample order in every epoch");
  sub->add_flag("-v,--verbose", args->verbose, "one progress line per epoch (Keras verbose=2)");
  sub->add_option("--save", args->save, "where to save the trained model (.h5, .keras or .weights.h5)")
      ->required();
  add_image_folder_options(*sub, args->folder);
  sub->add_option("--validation-split", args->folder.validation_split,
                  "with --x DIR: fraction of the images held out for validation (0 < F < 1)")
      ->check(CLI::Range(0.0, 1.0))
      ->group("image folder (--x DIR)");
  return {sub, [args] {
            const bool folder = is_image_folder(args->x);
            check_save_path(args->save);
            check_output_file(args->save, "--save");
            DatasetRef x_ref, y_ref;
            if (!folder) {
              if (args->y.empty()) throw UsageError("--y: required with --x FILE.h5:DATASET");
              x_ref = parse_dataset_ref(args->x);
              y_ref = parse_dataset_ref(args->y);
              check_input_file(x_ref.file, "--x");
              check_input_file(y_ref.file, "--y");
            }
            auto model = load_model_source(args->source);
            // A fresh optimizer by Keras name, its default rate replaced: get_optimizer("sgd")
            // then set_learning_rate(lr) is SGD(lr), and the same holds for every other name.
            OptimizerPtr optimizer = get_optimizer(args->optimizer);
            optimizer->set_learning_rate(args->lr);
            model->compile(optimizer, args->loss);
            if (folder) {
              fit_on_folder(*args, *model);
            } else {
              const Tensor x = read_dataset(x_ref);
              const Tensor y = read_dataset(y_ref);
              model->fit(x, y,
                         {.batch_size = args->batch_size,
                          .epochs = args->epochs,
                          .verbose = args->verbose ? 2 : 0,
                          .shuffle = !args->no_shuffle});
            }
            save_by_extension(*model, args->save);
          }};
}

}  // namespace minidl::cli
