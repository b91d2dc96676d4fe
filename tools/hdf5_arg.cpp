// tools/hdf5_arg.cpp — "FILE.h5:DATASET" arguments. See hdf5_arg.h for the splitting rule and the
// limits of rewriting an existing file.
#include "tools/hdf5_arg.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>
#include <vector>

#include "core/errors.h"
#include "io/atomic_file.h"
#include "io/hdf5.h"
#include "tools/commands.h"

namespace minidl::cli {
namespace {

namespace fs = std::filesystem;

bool has_hdf5_extension(const std::string& file) {
  std::string lower = file;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* ext : {".h5", ".hdf5", ".hdf", ".he5"}) {
    const std::string e(ext);
    if (lower.size() > e.size() && lower.compare(lower.size() - e.size(), e.size(), e) == 0) return true;
  }
  return false;
}

// "/a//b/" -> "a/b": one spelling, so the rewrite can recognise the dataset it replaces.
std::string normalise_dataset_path(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '/' && (out.empty() || out.back() == '/')) continue;
    out += c;
  }
  if (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

std::string child_path(const h5::Group& g, const std::string& name) {
  return g.path() == "/" ? "/" + name : g.path() + "/" + name;
}

// Throws unless everything under `g` except `skip` (an absolute dataset path) copies exactly.
void check_copyable(const h5::Group& g, const std::string& skip) {
  const auto fail = [&](const std::string& where, const std::string& what) {
    raise<IOError>(
        "{}: {}: {}; minidl can only add a dataset to a file holding groups and float32 datasets "
        "without attributes (write to a new file instead)",
        g.file_name(), where, what);
  };
  if (!g.attr_names().empty()) fail(g.path(), "has attributes");
  for (const std::string& name : g.children(h5::Order::kCreation)) {
    const std::string path = child_path(g, name);
    if (g.is_group(name)) {
      if (path == skip) fail(path, "is a group, not a dataset");
      check_copyable(g.open_group(name), skip);
    } else if (g.is_dataset(name)) {
      if (path == skip) continue;
      const h5::Dataset d = g.open_dataset(name);
      if (d.type_name() != "float32") fail(path, "holds " + d.type_name() + " data");
      if (!d.attr_names().empty()) fail(path, "has attributes");
    } else {
      fail(path, "is neither a group nor a dataset");
    }
  }
}

void copy_tree(const h5::Group& from, const h5::Group& to, const std::string& skip) {
  for (const std::string& name : from.children(h5::Order::kCreation)) {
    if (from.is_group(name)) {
      copy_tree(from.open_group(name), to.require_group(name), skip);
    } else if (child_path(from, name) != skip) {
      const h5::Dataset d = from.open_dataset(name);
      to.write_tensor(name, d.read_tensor(), d.shape(), h5::DType::kFloat32);
    }
  }
}

}  // namespace

DatasetRef parse_dataset_ref(const std::string& arg) {
  std::vector<size_t> colons;
  for (size_t i = arg.find(':'); i != std::string::npos; i = arg.find(':', i + 1)) colons.push_back(i);
  if (colons.empty())
    throw UsageError("'" + arg + "': expected FILE.h5:DATASET (a file name, a colon, a dataset path)");
  size_t split = colons.front();
  const auto pick = [&](auto&& good) {
    for (size_t c : colons)
      if (good(arg.substr(0, c))) return c;
    return std::string::npos;
  };
  if (size_t c = pick(has_hdf5_extension); c != std::string::npos) {
    split = c;
  } else if (size_t e = pick([](const std::string& f) {
               std::error_code ec;
               return fs::is_regular_file(f, ec);
             });
             e != std::string::npos) {
    split = e;
  }
  DatasetRef ref{arg.substr(0, split), normalise_dataset_path(arg.substr(split + 1))};
  if (ref.file.empty()) throw UsageError("'" + arg + "': the file name before ':' is empty");
  if (ref.dataset.empty()) throw UsageError("'" + arg + "': the dataset path after ':' is empty");
  return ref;
}

CLI::Option* add_dataset_option(CLI::App& sub, const std::string& name, std::string& ref,
                                const std::string& description) {
  const CLI::Validator parses(
      [](std::string& value) -> std::string {
        try {
          parse_dataset_ref(value);
          return "";
        } catch (const UsageError& e) {
          return e.what();
        }
      },
      "FILE.h5:DATASET", "FILE.h5:DATASET");
  return sub.add_option(name, ref, description)->required()->check(parses);
}

Tensor read_dataset(const DatasetRef& ref) {
  const h5::H5File f = h5::H5File::open_read(ref.file);
  return f.root().open_dataset(ref.dataset).read_tensor();
}

void write_dataset(const DatasetRef& ref, const Tensor& value) {
  std::error_code ec;
  if (!fs::exists(ref.file, ec)) {
    atomic_write(ref.file, [&](const std::string& tmp) {
      h5::H5File out = h5::H5File::create(tmp);
      out.root().write_tensor(ref.dataset, value, h5::DType::kFloat32);
      out.close();
    });
    return;
  }
  const h5::H5File in = h5::H5File::open_read(ref.file);
  const std::string skip = "/" + ref.dataset;
  check_copyable(in.root(), skip);
  atomic_write(ref.file, [&](const std::string& tmp) {
    h5::H5File out = h5::H5File::create(tmp);
    copy_tree(in.root(), out.root(), skip);
    out.root().write_tensor(ref.dataset, value, h5::DType::kFloat32);
    out.close();
  });
}

}  // namespace minidl::cli
