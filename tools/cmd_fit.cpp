// tools/cmd_fit.cpp — `minidl fit MODEL --x F:D --y F:D --loss NAME --optimizer NAME --lr F [--epochs N]
//  [--batch-size N] [--no-shuffle] [--verbose] --save OUT`: compiles the loaded model
// with a fresh optimizer at the given learning rate, trains it and saves it.
#include <cstdint>
#include <memory>
#include <string>

#include "tools/commands.h"
#include "tools/hdf5_arg.h"
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
};
}  // namespace

Command add_fit_command(CLI::App& app) {
  auto args = std::make_shared<FitArgs>();
  CLI::App* sub = app.add_subcommand("fit", "train a model on HDF5 datasets and save it");
  add_model_options(*sub, args->source);
  add_dataset_option(*sub, "--x", args->x, "inputs FILE.h5:DATASET (first axis = batch)");
  add_dataset_option(*sub, "--y", args->y, "targets FILE.h5:DATASET");
  sub->add_option("--loss", args->loss, "Keras loss name (mse, categorical_crossentropy, ...)")->required();
  sub->add_option("--optimizer", args->optimizer, "Keras optimizer name (sgd, adam, rmsprop, ...)")->required();
  add_positive_number_option(*sub, "--lr", args->lr, "learning rate")->required();
  add_whole_number_option(*sub, "--epochs", args->epochs, "epochs");
  add_whole_number_option(*sub, "-b,--batch-size", args->batch_size, "samples per gradient step");
  sub->add_flag("--no-shuffle", args->no_shuffle, "keep the sample order in every epoch");
  sub->add_flag("-v,--verbose", args->verbose, "one progress line per epoch (Keras verbose=2)");
  sub->add_option("--save", args->save, "where to save the trained model (.h5, .keras or .weights.h5)")
      ->required();
  return {sub, [args] {
            const DatasetRef x_ref = parse_dataset_ref(args->x);
            const DatasetRef y_ref = parse_dataset_ref(args->y);
            check_save_path(args->save);
            check_output_file(args->save, "--save");
            check_input_file(x_ref.file, "--x");
            check_input_file(y_ref.file, "--y");
            auto model = load_model_source(args->source);
            const Tensor x = read_dataset(x_ref);
            const Tensor y = read_dataset(y_ref);
            // A fresh optimizer by Keras name, its default rate replaced: get_optimizer("sgd")
            // then set_learning_rate(lr) is SGD(lr), and the same holds for every other name.
            OptimizerPtr optimizer = get_optimizer(args->optimizer);
            optimizer->set_learning_rate(args->lr);
            model->compile(optimizer, args->loss);
            model->fit(x, y,
                       {.batch_size = args->batch_size,
                        .epochs = args->epochs,
                        .verbose = args->verbose ? 2 : 0,
                        .shuffle = !args->no_shuffle});
            save_by_extension(*model, args->save);
          }};
}

}  // namespace minidl::cli
