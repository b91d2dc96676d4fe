#include "layers/conv/conv_utils.h"

#include <fmt/format.h>

namespace minidl {

std::string pair_str(const IntPair& p) { return fmt::format("({}, {})", p.first, p.second); }

json pair_json(const IntPair& p) { return json::array({p.first, p.second}); }

}  // namespace minidl
