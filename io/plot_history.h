// io/plot_history.h — training curves: loss and each metric per epoch, training and validation,
// as the matplotlib plots of the Keras tutorials, drawn by PLplot into a PNG or SVG file.
//
//   History h = model->fit(x, y, {.epochs = 20, .validation_split = 0.1,
//                                 .callbacks = {PlotHistory("curves.png")}});   // redrawn each epoch
//   plot_history(h, "curves.svg");
//   plot_history("log.csv", "curves.png");                                      // a CSVLogger file
//
// One panel per quantity ("loss", "accuracy", ...): the training series in blue, labelled
// with its key ("loss"), and the validation series (the "val_" key) in orange, dashed,
// against the epoch (1-based); "loss" comes first, then the other quantities in key order.
// A missing value (CSVLogger's "NA", NaN) leaves a gap. Files are written atomically, so a
// viewer watching a long run never sees half a picture.
//
// Why PLplot rather than MathGL (both Debian packages with PNG and SVG output and no display):
//  * license: PLplot is LGPL-2+; Debian's MathGL is GPL-2+ (only some headers are LGPL-3+),
//    which would bind every program linking minidl;
//  * size: libplplot17 + libplplot-data are about 5.5 MB installed and libplplot-dev pulls
//    little; libmgl8 + libmgl-data are about 50 MB and libmgl-dev pulls Qt, wxWidgets, FLTK,
//    GLUT and MPI front ends;
//  * API: both are clear for line plots (MathGL's mglGraph is a tidier C++ object, PLplot's
//    plstream follows its well-documented C calls); PLplot's built-in "svg" driver keeps text
//    as SVG text, and PNG comes from its cairo driver (package plplot-driver-cairo).
// PLplot's fatal errors end the process, so everything it could refuse (a missing driver, an
// unopenable file, an empty range) is checked here first.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "train/callbacks.h"

namespace minidl {

struct PlotHistoryOptions {
  int panel_width = 640;   // pixels per panel (PNG; SVG uses the same numbers as its size)
  int panel_height = 480;
  std::string separator = ",";  // the CSVLogger separator, when reading a CSV file
};

// Draws `history` (fit's return value) into `path`; the suffix picks the format, ".png" or
// ".svg". ValueError for another suffix (naming it), a history without epochs or options out
// of range; IOError naming the path when it cannot be written; RuntimeError when minidl was
// built without PLplot or PLplot lacks the driver (its name and package said).
void plot_history(const History& history, const std::string& path, const PlotHistoryOptions& options = {});

// Draws a CSVLogger file: IOError naming the file when it is missing, unreadable, has no
// "epoch" header column, no rows, a row of the wrong length or a value that is not a number
// ("NA", "nan" and "inf" are read as Python writes them). Then as above.
void plot_history(const char* csv_path, const std::string& path, const PlotHistoryOptions& options = {});
void plot_history(const std::string& csv_path, const std::string& path, const PlotHistoryOptions& options = {});

// The per-epoch logs of a CSVLogger file: key -> one value per row, and the epochs (the
// "epoch" column, 0-based as written). Errors as plot_history's CSV form.
struct CsvHistory {
  std::vector<int> epoch;
  std::map<std::string, std::vector<double>> history;
};
CsvHistory read_csv_history(const std::string& csv_path, const std::string& separator = ",");

// A callback that redraws `path` from the logs at each epoch end, so a long run can be
// watched. It keeps the epochs of the current fit (reset at train begin). IOError at train
// begin when the path's folder does not exist; ValueError for a suffix other than .png or
// .svg at construction; drawing errors at epoch end as plot_history's.
class PlotHistoryImpl : public Callback {
 public:
  explicit PlotHistoryImpl(std::string path, PlotHistoryOptions options = {});
  void on_train_begin(const Logs&) override;
  void on_epoch_end(int epoch, const Logs& logs) override;

  const std::string& path() const { return path_; }
  // The epochs drawn so far.
  const History& history() const { return history_; }

 private:
  std::string path_;
  PlotHistoryOptions options_;
  History history_;
};
std::shared_ptr<PlotHistoryImpl> PlotHistory(std::string path, PlotHistoryOptions options = {});

// True when minidl was built with PLplot (plot_history works, given its drivers).
bool plot_history_available();

}  // namespace minidl
