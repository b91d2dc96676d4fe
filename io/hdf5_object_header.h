// io/hdf5_object_header.h — finds an attribute's raw data by reading an HDF5 object header
// from the file's bytes, so io/hdf5_attribute.cpp can check a variable-length string
// attribute's heap IDs before libhdf5 follows them (io/hdf5_heap_check.h). Internal to io/.
//
// Read per the HDF5 file format specification, section IV.A:
//   - version 1 headers (version byte 1, 16-byte prefix, messages with 8-byte headers:
//     type 2 bytes, size 2, flags 1, reserved 3) and version 2 headers ("OHDR", optional
//     times and attribute phase change values, chunk 0 size of 1/2/4/8 bytes, messages with
//     4-byte headers: type 1, size 2, flags 1, plus a creation order of 2 bytes when the
//     header tracks it, and a 4-byte checksum closing each chunk);
//   - continuation messages (type 0x10: address and length of the next chunk, plain messages
//     for version 1, "OCHK" + messages + checksum for version 2), followed in the order they
//     are found, as libhdf5 does;
//   - attribute messages (type 0x0C) versions 1 (name, datatype and dataspace each padded to
//     a multiple of 8), 2 (no padding) and 3 (no padding, a name encoding byte before the
//     name); the raw data follows the dataspace.
// Checksums are not verified (libhdf5 does, before the attribute is ever opened). What
// cannot be parsed ends the search quietly: libhdf5 has parsed the same header to open the
// attribute, so a parse failure here means the header is beyond what this reader follows
// (the caller then treats the attribute as not found). Messages flagged as shared (stored
// elsewhere) are skipped, and dense attribute storage is not followed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/hdf5_heap_check.h"

namespace minidl::h5::detail {

// The raw data of one attribute message: its file offset and its bytes to the end of the
// message (the data proper is at the start; what follows is padding).
struct AttributeData {
  uint64_t offset = 0;
  std::vector<uint8_t> bytes;
};

// Every attribute message named `name` in the object header at address `header` (relative
// to layout.base), in message order; empty when there is none.
std::vector<AttributeData> find_attribute_data(const FileBytes& bytes, const FileLayout& layout, uint64_t header,
                                               const std::string& name);

}  // namespace minidl::h5::detail
