// Checksums through the CLI: predict's output datasets carry Fletcher-32, inspect reports
// the coverage, and a flipped weight byte makes predict fail naming the dataset.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "io/keras_model.h"
#include "support/cli.h"

namespace minidl::testing {
namespace {

namespace fs = std::filesystem;

TEST(CliChecksum, PredictOutputIsChecksummedAndInspectSaysSo) {
  MINIDL_REQUIRE_CLI();
  Sequential model = small_dense_model();
  const fs::path dir = temp_dir();
  const fs::path saved = dir / "model.h5";
  save_model(*model.ptr(), saved.string());
  write_h5(dir / "in.h5", "x", Tensor::uniform({5, 3}));
  const CliResult r = run_cli({"predict", saved.string(), "--input", (dir / "in.h5:x").string(), "--output",
                               (dir / "pred.h5:y").string()});
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_TRUE(h5::H5File::open_read((dir / "pred.h5").string()).root().open_dataset("y").has_checksum());
  const CliResult i = run_cli({"inspect", saved.string()});
  ASSERT_EQ(i.status, 0) << describe(i);
  EXPECT_NE(i.out.find("checksums: fletcher32 on 4 of 4 datasets"), std::string::npos) << i.out;
}

TEST(CliChecksum, FlippedWeightByteIsAnErrorNamingTheDataset) {
  MINIDL_REQUIRE_CLI();
  Sequential model(std::vector<LayerPtr>{Dense(2, {.input_shape = Shape{2}, .name = "d"})});
  const float marker[4] = {1234.5f, -2345.25f, 3456.75f, -4567.5f};
  model->get_layer("d")->set_weights({Tensor::from_data({2, 2}, {marker[0], marker[1], marker[2], marker[3]}),
                                      Tensor::zeros({2})});
  const fs::path dir = temp_dir();
  const fs::path saved = dir / "model.h5";
  save_model(*model.ptr(), saved.string());
  std::string bytes = read_file(saved);
  const size_t at = bytes.find(std::string(reinterpret_cast<const char*>(marker), sizeof marker));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 5] ^= 0x04;
  std::ofstream(saved, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  write_h5(dir / "in.h5", "x", Tensor::uniform({1, 2}));
  const CliResult r = run_cli({"predict", saved.string(), "--input", (dir / "in.h5:x").string(), "--output",
                               (dir / "pred.h5:y").string()});
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_NE(r.err.find("/model_weights/d/d/kernel:0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("checksum mismatch"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace minidl::testing
