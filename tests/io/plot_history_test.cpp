// tests/io/plot_history_test.cpp — training curves: valid PNG (signature, IHDR size) and SVG
// (each series named, a marker per epoch), from a History, from the CSVLogger file of a real
// short fit and from the PlotHistory callback; bad files and paths are clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <regex>
#include <set>
#include <string>

#include "core/errors.h"
#include "io/plot_history.h"
#include "layers/core/dense.h"
#include "support/assertions.h"
#include "support/files.h"
#include "support/tensors.h"
#include "train/model.h"

namespace minidl::testing {
namespace {

#define MINIDL_REQUIRE_PLPLOT() \
  if (!plot_history_available()) GTEST_SKIP() << "minidl was built without PLplot (libplplot-dev)"

// Width and height from a PNG's IHDR chunk, after checking the signature and the chunk name.
std::pair<uint32_t, uint32_t> png_size(const std::string& png) {
  EXPECT_GE(png.size(), 24u);
  if (png.size() < 24) return {0, 0};
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  const auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(png[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

// The text of every <text> element of an SVG, tags removed and character references decoded.
std::multiset<std::string> svg_texts(const std::string& svg) {
  std::multiset<std::string> texts;
  const std::regex element(R"(<text[^>]*>([\s\S]*?)</text>)");
  const std::regex tag(R"(<[^>]*>)");
  const std::regex hex_ref(R"(&#x([0-9A-Fa-f]+);)");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), element); it != std::sregex_iterator(); ++it) {
    std::string inner = std::regex_replace((*it)[1].str(), tag, "");
    std::string text;
    std::smatch m;
    while (std::regex_search(inner, m, hex_ref)) {
      text += m.prefix().str() + static_cast<char>(std::stoi(m[1].str(), nullptr, 16));
      inner = m.suffix().str();
    }
    texts.insert(text + inner);
  }
  return texts;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The well-formed SVG's structure: one root, balanced <g> groups.
void expect_svg_document(const std::string& svg) {
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_EQ(count_of(svg, "<svg"), 1u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(count_of(svg, "<g"), count_of(svg, "</g>"));
}

History five_epochs() {
  History h;
  h.epoch = {0, 1, 2, 3, 4};
  h.history["loss"] = {1.0, 0.8, 0.6, 0.5, 0.45};
  h.history["val_loss"] = {1.1, 0.9, 0.7, 0.65, 0.6};
  h.history["accuracy"] = {0.5, 0.6, 0.7, 0.75, 0.8};
  h.history["val_accuracy"] = {0.45, 0.55, 0.65, 0.7, 0.72};
  return h;
}

// The training series is drawn in matplotlib's blue (#1F77B4), validation in its orange
// (#FF7F0E); each point is a filled marker of that colour.
void expect_markers(const std::string& svg, size_t per_series) {
  EXPECT_EQ(count_of(svg, R"(fill="#1F77B4")"), per_series);
  EXPECT_EQ(count_of(svg, R"(fill="#FF7F0E")"), per_series);
}

TEST(PlotHistory, PngHasOnePanelPerQuantity) {
  MINIDL_REQUIRE_PLPLOT();
  const std::string path = (temp_dir() / "curves.png").string();
  ::testing::internal::CaptureStderr();
  plot_history(five_epochs(), path, {.panel_width = 300, .panel_height = 200});
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  const auto [width, height] = png_size(read_file(path));
  EXPECT_EQ(width, 600u);  // loss and accuracy side by side
  EXPECT_EQ(height, 200u);
}

TEST(PlotHistory, SvgNamesEverySeriesAndMarksEveryEpoch) {
  MINIDL_REQUIRE_PLPLOT();
  const std::string path = (temp_dir() / "curves.svg").string();
  plot_history(five_epochs(), path);
  const std::string svg = read_file(path);
  expect_svg_document(svg);
  const auto texts = svg_texts(svg);
  for (const char* name : {"loss", "val_loss", "accuracy", "val_accuracy", "epoch"})
    EXPECT_GE(texts.count(name), 1u) << name;
  for (const char* epoch : {"1", "2", "3", "4", "5"}) EXPECT_GE(texts.count(epoch), 2u) << epoch;  // both x axes
  expect_markers(svg, 2 * 5);  // two panels, five epochs
}

TEST(PlotHistory, MissingValuesLeaveGaps) {
  MINIDL_REQUIRE_PLPLOT();
  History h;
  h.epoch = {0, 1, 2};
  h.history["loss"] = {1.0, std::nan(""), 0.5};
  h.history["val_loss"] = {1.0, 0.9, 0.8};
  const std::string path = (temp_dir() / "gaps.svg").string();
  plot_history(h, path);
  const std::string svg = read_file(path);
  EXPECT_EQ(count_of(svg, R"(fill="#1F77B4")"), 2u);
  EXPECT_EQ(count_of(svg, R"(fill="#FF7F0E")"), 3u);
}

// A real short fit: Dense on random data with a validation split, logged by CSVLogger and
// watched by PlotHistory.
TEST(PlotHistory, DrawsTheCsvLoggerFileOfARealFitAndTheCallbackRedrawsEachEpoch) {
  MINIDL_REQUIRE_PLPLOT();
  const auto dir = temp_dir();
  Sequential model({Dense(4, {.activation = "relu", .input_shape = Shape{3}}), Dense(1)});
  model->compile("sgd", "mse", {"mae"});
  const Tensor x = random_tensor({40, 3}, 1), y = random_tensor({40, 1}, 2);
  std::vector<std::string> drawn;  // the live picture after each epoch
  auto live = PlotHistory((dir / "live.svg").string());
  auto watch = LambdaCallback(
      {.on_epoch_end = [&](int, const Logs&) { drawn.push_back(read_file(dir / "live.svg")); }});
  model->fit(x, y,
             {.batch_size = 10, .epochs = 3, .verbose = 0,
              .callbacks = {CSVLogger((dir / "log.csv").string()), live, watch}, .validation_split = 0.25});

  ASSERT_EQ(drawn.size(), 3u);
  for (size_t e = 0; e < drawn.size(); ++e) {
    expect_svg_document(drawn[e]);
    expect_markers(drawn[e], 2 * (e + 1));  // loss and mae panels, one point per epoch so far
  }
  EXPECT_EQ(live->history().epoch.size(), 3u);

  const CsvHistory csv = read_csv_history((dir / "log.csv").string());
  EXPECT_EQ(csv.epoch, (std::vector<int>{0, 1, 2}));
  for (const char* key : {"loss", "mae", "val_loss", "val_mae"}) EXPECT_EQ(csv.history.at(key).size(), 3u) << key;

  plot_history((dir / "log.csv").string(), (dir / "from_csv.png").string());
  EXPECT_EQ(png_size(read_file(dir / "from_csv.png")), (std::pair<uint32_t, uint32_t>{1280, 480}));
  plot_history((dir / "log.csv").string(), (dir / "from_csv.svg").string());
  const std::string svg = read_file(dir / "from_csv.svg");
  const auto texts = svg_texts(svg);
  for (const char* name : {"loss", "val_loss", "mae", "val_mae"}) EXPECT_GE(texts.count(name), 1u) << name;
  expect_markers(svg, 2 * 3);
}

TEST(PlotHistory, CsvWithNaAndQuotedFieldsIsRead) {
  const auto path = temp_dir() / "log.csv";
  write_file(path, "epoch;\"a;b\";loss\r\n0;1.5;NA\r\n1;nan;0.25\r\n");
  const CsvHistory csv = read_csv_history(path.string(), ";");
  EXPECT_EQ(csv.epoch, (std::vector<int>{0, 1}));
  EXPECT_EQ(csv.history.at("a;b")[0], 1.5);
  EXPECT_TRUE(std::isnan(csv.history.at("a;b")[1]));
  EXPECT_TRUE(std::isnan(csv.history.at("loss")[0]));
  EXPECT_EQ(csv.history.at("loss")[1], 0.25);
}

TEST(PlotHistory, BadCsvFilesAreIOErrorsNamingThem) {
  const auto dir = temp_dir();
  const std::string out = (dir / "out.png").string();
  const std::string missing = (dir / "missing.csv").string();
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { plot_history(missing, out); }, {missing}));
  const auto bad = [&](const std::string& name, const std::string& contents) {
    write_file(dir / name, contents);
    const std::string path = (dir / name).string();
    EXPECT_TRUE(ThrowsQuietly<IOError>([&] { plot_history(path, out); }, {path})) << name;
  };
  bad("empty.csv", "");
  bad("no_epoch.csv", "loss,accuracy\r\n0.5,0.7\r\n");
  bad("header_only.csv", "epoch,loss\r\n");
  bad("short_row.csv", "epoch,loss,accuracy\r\n0,0.5\r\n");
  bad("not_a_number.csv", "epoch,loss\r\n0,abc\r\n");
  bad("binary.csv", std::string("\x89PNG\r\n\x1a\n\0\0\0", 11));
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { plot_history(dir.string(), out); }, {dir.string()}));
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(PlotHistory, BadOutputsAreClearErrors) {
  EXPECT_TRUE(ThrowsQuietly<ValueError>([] { plot_history(five_epochs(), (temp_dir() / "curves.jpg").string()); },
                                        {"'.jpg'"}));
  EXPECT_THROW(PlotHistory("curves.gif"), ValueError);
  EXPECT_THROW(plot_history(History{}, (temp_dir() / "empty.png").string()), ValueError);
  MINIDL_REQUIRE_PLPLOT();
  const std::string unwritable = (temp_dir() / "no_such_folder" / "curves.png").string();
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { plot_history(five_epochs(), unwritable); }, {unwritable}));
  auto callback = PlotHistory(unwritable);
  EXPECT_TRUE(ThrowsQuietly<IOError>([&] { callback->on_train_begin({}); }, {unwritable}));
}

}  // namespace
}  // namespace minidl::testing
