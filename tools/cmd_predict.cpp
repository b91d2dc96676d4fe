// tools/cmd_predict.cpp — `minidl predict MODEL --input FILE.h5:DATASET --output FILE.h5:DATASET [--batch-size N]`:
// runs the model in inference mode on a dataset (first axis = batch) and stores the
// prediction as a float32 dataset.
#include <cstdint>
#include <memory>
#include <string>

#include "core/errors.h"
#include "tools/commands.h"
#include "tools/hdf5_arg.h"
#include "tools/number_arg.h"

namespace minidl::cli {

namespace {
struct PredictArgs {
  ModelSource source;
  std::string input, output;
  int64_t batch_size = 32;  // Keras's predict default
};
}  // namespace

Command add_predict_command(CLI::App& app) {
  auto args = std::make_shared<PredictArgs>();
  CLI::App* sub = app.add_subcommand("predict", "run a model on an HDF5 dataset and write the prediction");
  add_model_options(*sub, args->source);
  add_dataset_option(*sub, "-i,--input", args->input, "input FILE.h5:DATASET (float32/float64, first axis = batch)");
  add_dataset_option(*sub, "-o,--output", args->output, "output FILE.h5:DATASET (float32; the dataset is replaced)");
  add_whole_number_option(*sub, "-b,--batch-size", args->batch_size, "samples per inference batch");
  return {sub, [args] {
            const DatasetRef in = parse_dataset_ref(args->input);
            const DatasetRef out = parse_dataset_ref(args->output);
            check_input_file(in.file, "--input");
            check_output_file(out.file, "--output");
            auto model = load_model_source(args->source);
            const Tensor x = read_dataset(in);
            MINIDL_CHECK(x.rank() >= 1, ValueError, "{}:{}: expected a batch (rank >= 1), received a scalar", in.file,
                         in.dataset);
            write_dataset(out, model->predict(x, args->batch_size));
          }};
}

}  // namespace minidl::cli
