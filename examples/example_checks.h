// examples/example_checks.h — how the numbered examples check themselves.
//
// Each check prints one line ending in "ok" or "WRONG"; finish() is main's
// return value: 0 when every check held, else 1 with a message on stderr, so
// ctest (label `examples`) fails on a wrong result.
//
//   minidl::examples::Checks check("05_custom_layer");
//   check(err < 1e-5, "backward matches finite differences");
//   return check.finish();
#pragma once

#include <cstdio>
#include <string>

namespace minidl::examples {

class Checks {
 public:
  explicit Checks(const char* example) : example_(example) {}

  void operator()(bool ok, const std::string& what) {
    std::printf("  check: %-58s %s\n", what.c_str(), ok ? "ok" : "WRONG");
    if (!ok) ++failures_;
  }

  int finish() const {
    if (failures_) {
      std::fprintf(stderr, "%s: FAILED: %d check(s) wrong\n", example_, failures_);
      return 1;
    }
    std::printf("%s: all checks passed\n", example_);
    return 0;
  }

 private:
  const char* example_;
  int failures_ = 0;
};

}  // namespace minidl::examples
