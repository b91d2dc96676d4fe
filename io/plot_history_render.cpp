// io/plot_history_render.cpp — plot_history's drawing with PLplot (C++ binding plstream): a
// grid of panels, one per quantity, training and validation lines with markers and a legend.
//
// PNG comes from PLplot's cairo driver ("pngcairo", package plplot-driver-cairo), SVG from its
// own "svg" driver, which writes text as SVG text. PLplot reports recoverable errors through
// an abort handler (collected here and raised as RuntimeError) and ends the process on fatal
// ones, so the caller checks the file first and this file checks the driver is installed.
#include <mutex>
#include <string>

#include "core/errors.h"
#include "io/plot_internal.h"

#ifdef MINIDL_HAVE_PLPLOT
#include <plstream.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>
#endif

namespace minidl::plot_detail {

#ifndef MINIDL_HAVE_PLPLOT

bool plplot_available() { return false; }

void render_curves(const std::vector<CurvePanel>&, const std::vector<double>&, const std::string&, const std::string&,
                   int, int) {
  raise<RuntimeError>("plot_history: minidl was built without PLplot (install libplplot-dev and rebuild)");
}

#else

namespace {

std::mutex plplot_mutex;  // the abort handler and PLplot's current stream are process-wide
std::string* plplot_messages = nullptr;

void collect_message(const char* message) {
  if (plplot_messages && message) *plplot_messages += std::string(message) + " ";
}

bool has_device(const std::string& name) {
  // plgDevs fills arrays the caller provides; *count is their size on the way in.
  std::vector<const char*> menu(256, nullptr), names(256, nullptr);
  const char** menu_data = menu.data();
  const char** names_data = names.data();
  int count = static_cast<int>(names.size());
  plgDevs(&menu_data, &names_data, &count);
  for (int i = 0; i < count; ++i)
    if (names[i] && name == names[i]) return true;
  return false;
}

// Colour map 0 entries used here.
enum Colour : PLINT { kBackground = 0, kInk = 1, kTrain = 2, kValidation = 3, kGrid = 4 };

// A step of 1, 2 or 5 times a power of ten giving about 8 ticks, and never below one epoch.
double epoch_tick(double span) {
  const double raw = std::max(1.0, span / 8.0);
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * power >= raw) return m * power;
  return 10 * power;
}

// The y range of the finite values, padded; [0, 1] when there are none.
std::pair<double, double> value_range(const CurvePanel& panel) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto* series : {&panel.train, &panel.validation})
    for (double v : *series)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(lo <= hi)) return {0.0, 1.0};
  const double pad = hi > lo ? 0.05 * (hi - lo) : std::max(0.5, 0.1 * std::abs(lo));
  return {lo - pad, hi + pad};
}

// The finite runs of a series as lines (a missing epoch leaves a gap), with a marker at each point.
void draw_series(plstream& pls, const std::vector<double>& epochs, const std::vector<double>& values, Colour colour,
                 PLINT style) {
  pls.col0(colour);
  pls.width(2.0);
  pls.lsty(style);
  std::vector<PLFLT> x, y;
  const auto flush = [&] {
    if (x.size() >= 2) pls.line(static_cast<PLINT>(x.size()), x.data(), y.data());
    if (!x.empty()) pls.poin(static_cast<PLINT>(x.size()), x.data(), y.data(), 17);
    x.clear();
    y.clear();
  };
  for (size_t i = 0; i < values.size() && i < epochs.size(); ++i) {
    if (std::isfinite(values[i])) {
      x.push_back(epochs[i]);
      y.push_back(values[i]);
    } else {
      flush();
    }
  }
  flush();
  pls.lsty(1);
  pls.width(1.0);
}

// The legend goes in the right-hand corner (top or bottom) that covers fewer points: the
// points in the right 45% of the epochs and the top (or bottom) 35% of the values.
PLINT legend_corner(const CurvePanel& panel, const std::vector<double>& epochs, std::pair<double, double> y_range) {
  const double x_from = epochs.front() + 0.55 * (epochs.back() - epochs.front());
  const double top = y_range.first + 0.65 * (y_range.second - y_range.first);
  const double bottom = y_range.first + 0.35 * (y_range.second - y_range.first);
  int in_top = 0, in_bottom = 0;
  for (const auto* series : {&panel.train, &panel.validation})
    for (size_t i = 0; i < series->size() && i < epochs.size(); ++i) {
      const double v = (*series)[i];
      if (!std::isfinite(v) || epochs[i] < x_from) continue;
      in_top += v >= top;
      in_bottom += v <= bottom;
    }
  return (in_top > in_bottom ? PL_POSITION_BOTTOM : PL_POSITION_TOP) | PL_POSITION_RIGHT | PL_POSITION_INSIDE;
}

void draw_legend(plstream& pls, const CurvePanel& panel, PLINT corner) {
  std::vector<std::string> labels;
  std::vector<PLINT> colours, styles;
  if (!panel.train.empty()) labels.push_back(panel.name), colours.push_back(kTrain), styles.push_back(1);
  if (!panel.validation.empty())
    labels.push_back("val_" + panel.name), colours.push_back(kValidation), styles.push_back(2);
  const PLINT n = static_cast<PLINT>(labels.size());
  if (n == 0) return;
  std::vector<const char*> text;
  for (const auto& l : labels) text.push_back(l.c_str());
  std::vector<PLINT> options(n, PL_LEGEND_LINE), text_colours(n, kInk), unused_int(n, 0);
  std::vector<PLFLT> widths(n, 2.0), unused_float(n, 1.0);
  std::vector<const char*> unused_symbols(n, "");
  PLFLT legend_width = 0, legend_height = 0;
  pls.legend(&legend_width, &legend_height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             corner, 0.02, 0.02, 0.12, kBackground, kInk, 1, 0, 0, n,
             options.data(), 1.0, 0.9, 2.0, 0.0, text_colours.data(), text.data(), unused_int.data(), unused_int.data(),
             unused_float.data(), unused_float.data(), colours.data(), styles.data(), widths.data(), unused_int.data(),
             unused_float.data(), unused_int.data(), unused_symbols.data());
}

}  // namespace

bool plplot_available() { return true; }

void render_curves(const std::vector<CurvePanel>& panels, const std::vector<double>& epochs, const std::string& format,
                   const std::string& path, int width, int height) {
  const std::lock_guard<std::mutex> lock(plplot_mutex);
  const std::string device = format == "png" ? "pngcairo" : "svg";
  if (!has_device(device))
    raise<RuntimeError>("plot_history: PLplot has no '{}' driver{}", device,
                        device == "pngcairo" ? " (install plplot-driver-cairo)" : "");
  const int count = static_cast<int>(panels.size());
  const int cols = count <= 3 ? count : static_cast<int>(std::ceil(std::sqrt(static_cast<double>(count))));
  const int rows = (count + cols - 1) / cols;
  const double x_first = epochs.front(), x_last = epochs.back();
  const double x_pad = x_last > x_first ? 0.03 * (x_last - x_first) : 0.5;

  std::string messages;
  plplot_messages = &messages;
  plsabort(collect_message);
  {
    plstream pls;  // its own stream; destroying it finishes the file (plend1)
    // With an error buffer PLplot keeps its "ABORTING OPERATION" messages off stderr; the
    // abort handler has collected them.
    PLINT error_code = 0;
    std::vector<char> error_text(4096, '\0');
    pls.sError(&error_code, error_text.data());
    pls.sdev(device.c_str());
    pls.sfnam(path.c_str());
    pls.spage(0, 0, width * cols, height * rows, 0, 0);
    pls.scol0(kBackground, 255, 255, 255);
    pls.scol0(kInk, 0, 0, 0);
    pls.scol0(kTrain, 31, 119, 180);      // matplotlib's first two colours, as the Keras tutorials' plots
    pls.scol0(kValidation, 255, 127, 14);
    pls.scol0(kGrid, 220, 220, 220);
    pls.ssub(cols, rows);
    pls.init();
    for (const CurvePanel& panel : panels) {
      const auto [y_lo, y_hi] = value_range(panel);
      pls.adv(0);
      pls.vsta();
      pls.wind(x_first - x_pad, x_last + x_pad, y_lo, y_hi);
      const double tick = epoch_tick(x_last - x_first);
      pls.col0(kGrid);
      pls.box("g", tick, 1, "g", 0, 0);
      pls.col0(kInk);
      pls.box("bcnst", tick, 1, "bcnstv", 0, 0);
      pls.lab("epoch", panel.name.c_str(), panel.name.c_str());
      if (!panel.train.empty()) draw_series(pls, epochs, panel.train, kTrain, 1);
      if (!panel.validation.empty()) draw_series(pls, epochs, panel.validation, kValidation, 2);
      draw_legend(pls, panel, legend_corner(panel, epochs, {y_lo, y_hi}));
    }
  }
  plsabort(nullptr);
  plplot_messages = nullptr;
  if (!messages.empty()) raise<RuntimeError>("plot_history: PLplot could not draw '{}': {}", path, messages);
}

#endif

}  // namespace minidl::plot_detail
