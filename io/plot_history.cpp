// io/plot_history.cpp — training curves: History or a CSVLogger file -> panels per quantity,
// drawn by io/plot_history_render.cpp (PLplot); the PlotHistory callback.
#include "io/plot_history.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/errors.h"
#include "io/plot_internal.h"
#include "train/distributed.h"

namespace minidl {
namespace {

using plot_detail::CurvePanel;

std::string format_for(const std::string& path) {
  const std::string suffix = std::filesystem::path(path).extension().string();
  if (suffix == ".png") return "png";
  if (suffix == ".svg") return "svg";
  raise<ValueError>("plot_history: unsupported file suffix '{}' in '{}' (expected .png or .svg)", suffix, path);
}

// "loss" first, then the other quantities in key order; "val_x" joins x's panel.
std::vector<CurvePanel> panels_of(const std::map<std::string, std::vector<double>>& history, size_t epochs) {
  std::vector<std::string> names;
  const auto add_name = [&](const std::string& name) {
    for (const auto& n : names)
      if (n == name) return;
    names.push_back(name);
  };
  if (history.count("loss") || history.count("val_loss")) add_name("loss");
  for (const auto& [key, values] : history) add_name(key.rfind("val_", 0) == 0 ? key.substr(4) : key);
  std::vector<CurvePanel> panels;
  for (const auto& name : names) {
    CurvePanel panel{name, {}, {}};
    const auto series = [&](const std::string& key) {
      auto it = history.find(key);
      if (it == history.end()) return std::vector<double>{};
      std::vector<double> v = it->second;
      v.resize(epochs, std::numeric_limits<double>::quiet_NaN());
      return v;
    };
    panel.train = series(name);
    panel.validation = series("val_" + name);
    panels.push_back(std::move(panel));
  }
  return panels;
}

void draw(const std::map<std::string, std::vector<double>>& history, const std::vector<int>& epoch_numbers,
          const std::string& path, const PlotHistoryOptions& o) {
  const std::string format = format_for(path);
  MINIDL_CHECK(o.panel_width >= 64 && o.panel_width <= 8192 && o.panel_height >= 64 && o.panel_height <= 8192,
               ValueError, "plot_history: panel size must be 64..8192 pixels, received {}x{}", o.panel_width,
               o.panel_height);
  MINIDL_CHECK(!epoch_numbers.empty() && !history.empty(), ValueError,
               "plot_history: nothing to draw for '{}': the history has no epochs", path);
  MINIDL_CHECK(plot_history_available(), RuntimeError,
               "plot_history: minidl was built without PLplot (install libplplot-dev and rebuild)");
  std::vector<double> epochs;
  for (int e : epoch_numbers) epochs.push_back(e + 1.0);  // Keras logs 0-based epochs, prints them 1-based
  const std::vector<CurvePanel> panels = panels_of(history, epochs.size());
  plot_detail::write_picture("plot_history", path, [&](const std::string& tmp) {
    plot_detail::render_curves(panels, epochs, format, tmp, o.panel_width, o.panel_height);
  });
}

// Python's csv reader, for the CSVLogger dialect: quoted fields with doubled quotes.
std::vector<std::string> split_csv_line(const std::string& line, char separator) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == separator) {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

// A value as CSVLogger writes it: Python's repr of a float, or "NA" for a missing key.
bool parse_value(const std::string& text, double& value) {
  if (text == "NA" || text.empty()) {
    value = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  value = std::strtod(begin, &end);
  return end == begin + text.size();
}

}  // namespace

CsvHistory read_csv_history(const std::string& csv_path, const std::string& separator) {
  MINIDL_CHECK(separator.size() == 1, ValueError, "plot_history: separator must be one character, received '{}'",
               separator);
  std::error_code ec;
  MINIDL_CHECK(!std::filesystem::is_directory(csv_path, ec), IOError,
               "plot_history: '{}' is a directory, not a CSVLogger file", csv_path);
  std::ifstream in(csv_path, std::ios::binary);
  if (!in) raise<IOError>("plot_history: cannot read '{}': {}", csv_path, std::strerror(errno));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // the csv module ends rows with CRLF
    if (!line.empty()) lines.push_back(line);
  }
  if (in.bad()) raise<IOError>("plot_history: cannot read '{}': {}", csv_path, std::strerror(errno));
  MINIDL_CHECK(!lines.empty(), IOError, "plot_history: '{}' is empty (expected a CSVLogger file)", csv_path);
  const std::vector<std::string> header = split_csv_line(lines[0], separator[0]);
  MINIDL_CHECK(header[0] == "epoch" && header.size() >= 2, IOError,
               "plot_history: '{}' is not a CSVLogger file: expected a header 'epoch{}<metric>...', received '{}'",
               csv_path, separator, lines[0].substr(0, 200));
  MINIDL_CHECK(lines.size() >= 2, IOError, "plot_history: '{}' has a header but no epochs", csv_path);
  CsvHistory result;
  for (size_t r = 1; r < lines.size(); ++r) {
    const std::vector<std::string> fields = split_csv_line(lines[r], separator[0]);
    MINIDL_CHECK(fields.size() == header.size(), IOError, "plot_history: '{}' line {}: expected {} fields, received {}",
                 csv_path, r + 1, header.size(), fields.size());
    double epoch = 0;
    MINIDL_CHECK(parse_value(fields[0], epoch) && std::isfinite(epoch) && epoch >= 0 && epoch < 1e9 &&
                     epoch == std::floor(epoch),
                 IOError, "plot_history: '{}' line {}: the epoch '{}' is not a whole number", csv_path, r + 1,
                 fields[0].substr(0, 50));
    result.epoch.push_back(static_cast<int>(epoch));
    for (size_t c = 1; c < fields.size(); ++c) {
      double value = 0;
      MINIDL_CHECK(parse_value(fields[c], value), IOError, "plot_history: '{}' line {}, column '{}': '{}' is not a number",
                   csv_path, r + 1, header[c], fields[c].substr(0, 50));
      result.history[header[c]].push_back(value);
    }
  }
  return result;
}

void plot_history(const History& history, const std::string& path, const PlotHistoryOptions& options) {
  draw(history.history, history.epoch, path, options);
}

void plot_history(const std::string& csv_path, const std::string& path, const PlotHistoryOptions& options) {
  format_for(path);  // a bad output name is reported before the input is read
  const CsvHistory csv = read_csv_history(csv_path, options.separator);
  draw(csv.history, csv.epoch, path, options);
}

void plot_history(const char* csv_path, const std::string& path, const PlotHistoryOptions& options) {
  plot_history(std::string(csv_path), path, options);
}

bool plot_history_available() { return plot_detail::plplot_available(); }

PlotHistoryImpl::PlotHistoryImpl(std::string path, PlotHistoryOptions options)
    : path_(std::move(path)), options_(std::move(options)) {
  format_for(path_);
}

void PlotHistoryImpl::on_train_begin(const Logs& logs) {
  // An output folder that does not exist fails before the first (maybe long) epoch.
  namespace fs = std::filesystem;
  const fs::path folder = fs::path(path_).has_parent_path() ? fs::path(path_).parent_path() : fs::path(".");
  std::error_code ec;
  MINIDL_CHECK(fs::is_directory(folder, ec), IOError, "PlotHistory: cannot write '{}': folder '{}' does not exist",
               path_, folder.string());
  history_.on_train_begin(logs);
}

void PlotHistoryImpl::on_epoch_end(int epoch, const Logs& logs) {
  history_.on_epoch_end(epoch, logs);
  // In data-parallel training every rank sees the same averaged logs; rank 0 alone draws them.
  if (distributed::rank() == 0) plot_history(history_, path_, options_);
}

std::shared_ptr<PlotHistoryImpl> PlotHistory(std::string path, PlotHistoryOptions options) {
  return std::make_shared<PlotHistoryImpl>(std::move(path), std::move(options));
}

}  // namespace minidl
