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
//
// Temporaries are named ".TARGET.tmp-PID-COUNTER-RANDOM" (PID of the writing process,
// a per-process counter, 8 lowercase hex digits). A process killed while writing
// (kill -9, a crash, power loss) leaves its temporary behind; the target itself is
// still the old or the complete new version. Each successful atomic_write removes the
// temporaries of the same target whose PID names no running process (kill(pid, 0)
// fails with ESRCH). It keeps a running process's temporary (a zombie counts as
// running until reaped), files of other targets and anything not of exactly that
// shape. A writer in another PID namespace sharing the folder is not seen as running:
// do not share one target between containers.
#pragma once

#include <functional>
#include <string>

namespace minidl {

// Calls writer(tmp_path), then renames tmp_path over `path`.
// Requires: the target's directory exists and is writable; the writer creates tmp_path.
// Then removes the target's temporaries left by processes that no longer run (above).
// Throws: whatever the writer throws (the temp file is removed and the old target is left
// untouched); IOError when the writer produced no file or the rename fails. Failing to
// remove a leftover temporary is not an error.
void atomic_write(const std::string& path, const std::function<void(const std::string& tmp_path)>& writer);

}  // namespace minidl
