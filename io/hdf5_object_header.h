// io/hdf5_object_header.h — reads the messages of an HDF5 object header from the file's
// bytes, so that minidl can check what libhdf5 is about to trust: a variable-length string
// attribute's heap IDs (io/hdf5_attribute.cpp, io/hdf5_heap_check.h) and a group's link and
// attribute storage addresses (io/hdf5_link_storage.h). Internal to io/.
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
// Checksums are not verified (libhdf5 does, before the object is ever opened). What cannot
// be parsed ends the walk quietly: libhdf5 has parsed the same header to open the object, so
// a parse failure here means the header is beyond what this reader follows (the callers
// then have nothing to check). Messages flagged as shared (stored elsewhere) are skipped,
// and dense attribute storage is not followed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "io/hdf5_heap_check.h"

namespace minidl::h5::detail {

// One message of an object header: its type, its body and the body's file offset.
struct HeaderMessage {
  unsigned type = 0;
  const uint8_t* body = nullptr;  // valid only during the visit
  uint64_t size = 0;
  uint64_t offset = 0;
};

// Calls `visit` for every message not flagged as shared in the object header at address
// `header` (relative to layout.base), in the order libhdf5 reads them.
void for_each_message(const FileBytes& bytes, const FileLayout& layout, uint64_t header,
                      const std::function<void(const HeaderMessage&)>& visit);

// The raw data of one attribute message: its file offset and its bytes to the end of the
// message (the data proper is at the start; what follows is padding); and the message's
// datatype, as encoded in the file.
struct AttributeData {
  uint64_t offset = 0;
  std::vector<uint8_t> bytes;
  std::vector<uint8_t> datatype;
};

// Every attribute message named `name` in the object header at address `header` (relative
// to layout.base), in message order; empty when there is none.
std::vector<AttributeData> find_attribute_data(const FileBytes& bytes, const FileLayout& layout, uint64_t header,
                                               const std::string& name);

}  // namespace minidl::h5::detail
