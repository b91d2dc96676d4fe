// io/hdf5_internal.h — what the io/hdf5*.cpp files share: <hdf5.h> itself and the small
// helpers every part of the RAII layer (io/hdf5.h) uses: error reporting, path splitting,
// dataspace and datatype translation, and the link and attribute storage checks run before
// libhdf5 traverses an object. The one file in minidl that includes <hdf5.h>;
// only io/hdf5*.cpp include this header (scripts/check_layering.sh enforces both).
#pragma once

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "io/hdf5.h"

namespace minidl::h5::detail {

static_assert(std::is_same_v<hid_t, int64_t>, "io/hdf5.h stores HDF5 ids as int64_t");

// Switches HDF5's automatic error printing off for the calling thread. The switch is per
// thread in thread-safe HDF5 builds (Debian's is one), so every entry point calls this.
void quiet();

// Descriptions on the current error stack, outermost call first; clears the stack.
std::string hdf5_stack();

// Throws IOError "<file>: <path>: <what>", plus " (HDF5: <stack>)" when with_stack and the
// stack is not empty; the stack is cleared either way.
[[noreturn]] void fail_at(const std::string& file, const std::string& path, const std::string& what,
                          bool with_stack);

// "a//b/c" -> {"a", "b", "c"}; a leading '/' is dropped (the caller knows it is absolute).
std::vector<std::string> split_path(const std::string& path);
// `base` ("/" or "/a/b") followed by `parts`, "/" when both are empty.
std::string join_path(const std::string& base, const std::vector<std::string>& parts);

// -1 when a dimension is negative or the product overflows int64.
int64_t checked_numel(const Shape& shape);

// The shape of a dataspace: () for scalar, (0,) for null. False when HDF5 cannot tell.
bool shape_of(hid_t space, Shape* out);
// The shape of the dataspace that get_space (H5Aget_space or H5Dget_space) opens
// for the attribute or dataset `id`. False when HDF5 cannot open or read it.
bool space_shape(hid_t (*get_space)(hid_t), hid_t id, Shape* out);

TypeClass class_of(hid_t type);
inline bool is_numeric(TypeClass c) { return c == TypeClass::kFloat || c == TypeClass::kInteger; }
// "float32", "uint8", "string (fixed-length 15, ASCII)", "compound", ... (Attribute::type_name).
std::string name_of(hid_t type);

// A C string type: variable-length, or fixed-length `size` bytes NULL-padded.
Handle string_type(bool variable, size_t size, H5T_cset_t cset);
// The little-endian file type HDF5 stores for a DType.
Handle file_type(DType t);
// A simple dataspace of `shape`; scalar for ().
Handle simple_space(const Shape& shape);

// Strips fixed-length string padding the way the type declares it.
std::string unpad(const char* p, size_t size, H5T_str_t pad);

// --- io/hdf5_group_check.cpp: link and attribute storage checks (io/hdf5_link_storage.h) ---

// Prepares the checks for a file just opened read-only: `owner` is that open's name pointer,
// `memory_size` the size of the file image it was opened from (0 for a file on disk).
void prepare_storage_checks(hid_t file, const std::shared_ptr<const std::string>& owner, uint64_t memory_size);
// Throws IOError "<file>: <path>: damaged link or attribute storage: ..." when the header of
// the open object `obj` names link or attribute storage that is not there, before libhdf5
// follows it. Each header is checked once per open file; files not prepared (open for
// writing: their storage is libhdf5's own work) are not checked.
void check_storage(hid_t obj, const std::shared_ptr<const std::string>& file, const std::string& path);
// The same for the object `rel` seen from `loc`, whose own storage must already have passed
// (finding `rel` traverses `loc` and the groups on the way).
void check_storage_at(hid_t loc, const std::string& rel, const std::shared_ptr<const std::string>& file,
                      const std::string& path);

}  // namespace minidl::h5::detail
