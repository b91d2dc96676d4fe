// layers/merge/merge_internal.h — helpers shared by the merge layers (merge.cpp and
// concatenate.cpp). Internal to layers/merge.
#pragma once

#include <string>
#include <vector>

#include "core/shape.h"

namespace minidl::detail {

// "[(None, 3), (None, 4)]", as Keras prints a list of shapes.
std::string shapes_str(const std::vector<Shape>& shapes);

}  // namespace minidl::detail
