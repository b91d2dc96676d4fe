// io/atomic_file.h — write a file so that readers see either the old version or the
// complete new one, never a half-written file (model checkpoints, .keras zips).
//
//   atomic_write("model.h5", [&](const std::string& tmp) {
//     h5::H5File f = h5::H5File::create(tmp);
//     ...                      // write everything to tmp
//     f.close();
//   });
//
// The writer gets a fresh path in the target's directory (so the final rename stays on one
// filesystem); when it returns, the temp file is flushed to disk and renamed over the target.
#pragma once

#include <functional>
#include <string>

namespace minidl {

// Calls writer(tmp_path), then renames tmp_path over `path`.
// Requires: the target's directory exists and is writable; the writer creates tmp_path.
// Throws: whatever the writer throws (the temp file is removed and the old target is left
// untouched); IOError when the writer produced no file or the rename fails.
void atomic_write(const std::string& path, const std::function<void(const std::string& tmp_path)>& writer);

}  // namespace minidl
