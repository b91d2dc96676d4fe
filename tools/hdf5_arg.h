// tools/hdf5_arg.h — "FILE.h5:DATASET" command-line arguments: parsing, reading, writing.
//
//   DatasetRef in = parse_dataset_ref("case.h5:x");          // {"case.h5", "x"}
//   Tensor x = read_dataset(in);                               // float32, any stored numeric type
//   write_dataset(parse_dataset_ref("out.h5:pred/y"), y);      // float32 dataset /pred/y
//
// Splitting. Dataset names may hold ':' (Keras's "dense/kernel:0"), and so, rarely,
// may file names. The split is at the first ':' whose left part ends in .h5, .hdf5,
// .hdf or .he5 (any case); failing that, at the first ':' whose left part is an
// existing file; failing that, at the first ':'.
//
// All file access goes through io/hdf5.h.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "core/tensor.h"

namespace minidl::cli {

struct DatasetRef {
  std::string file;     // as given
  std::string dataset;  // path inside the file, relative to the root ("x", "group/y")
};

// Parses FILE:DATASET. Throws UsageError (tools/commands.h) when there is no ':',
// or the file or dataset part is empty.
DatasetRef parse_dataset_ref(const std::string& arg);

// Adds the required FILE.h5:DATASET option `name` to `sub`, bound to `ref` and
// checked with parse_dataset_ref while parsing, so a bad argument is a parse
// error (exit 2).
CLI::Option* add_dataset_option(CLI::App& sub, const std::string& name, std::string& ref,
                                const std::string& description);

// The dataset's values as float32 (HDF5 converts any integer or float storage).
// Throws IOError naming the file and dataset when either is missing or not numeric.
Tensor read_dataset(const DatasetRef& ref);

// Writes `value` as a float32 dataset of its shape.
// * A missing file is created atomically (temporary file, then rename), holding
//   only this dataset (and the groups on its path).
// * An existing file is rewritten atomically with the dataset replaced or added.
//   io/hdf5.h has no read-write open, so the other contents are copied; only what
//   copies exactly is accepted: groups and float32 datasets without attributes.
//   Anything else (attributes, other dataset types) is an IOError and the file is
//   left untouched.
// Throws IOError when the file cannot be written or a group on the path is a dataset.
void write_dataset(const DatasetRef& ref, const Tensor& value);

}  // namespace minidl::cli
