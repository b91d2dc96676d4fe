// io/hdf5_link_storage.h — checks that the link and attribute storage an HDF5 object header
// names is there, before libhdf5 follows it. Internal to io/ (io/hdf5_group_check.cpp
// applies it to every group and dataset minidl opens or traverses).
//
// Why: libhdf5 1.10 follows the addresses in these messages without checking them. A group
// whose Link Info message names a fractal heap makes libhdf5 open the v2 B-tree of its name
// index at whatever address is written there; the undefined address (all 0xff) or one
// outside the file makes it copy from a null or wild pointer (a crash, not an error).
//
// What is checked, per the HDF5 file format specification, section IV.A.2, for every
// message of the header (io/hdf5_object_header.h) of these types:
//   - Link Info (0x0002, new-style groups) and Attribute Info (0x0015, dense attributes),
//     version 0 (other versions libhdf5 refuses itself): the body holds every field its
//     flags call for; the fractal heap address and the v2 B-tree addresses (name index,
//     and creation order index when the flags say it is indexed) are each either the
//     undefined address or lie inside the file with room for their structure's fixed-size
//     header ("FRHP" fractal heap header; "BTHD" v2 B-tree header) and carry its signature;
//     a defined fractal heap address comes with a defined name index address (libhdf5
//     takes a defined heap to mean dense storage and opens the name index unconditionally);
//   - Symbol Table (0x0011, old-style groups): the v1 B-tree address ("TREE" node header)
//     and the local heap address ("HEAP" header) lie inside the file with their signatures,
//     and the local heap's data segment (its address and size) lies inside the file too.
//   - Link (0x0006, a new-style group's links in compact storage): each decodes as libhdf5
//     decodes it (version 1, known flags, link type and character set, a nonempty name, all
//     fields inside the body); libhdf5 1.10 frees unset pointers when one fails.
// A field wider than 8 bytes (size of offsets or lengths) is not supported and is reported.
// Checksums and the structures' further contents are left to libhdf5, which verifies the
// checksums of fractal heap and v2 B-tree headers when it reads them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "io/hdf5_heap_check.h"

namespace minidl::h5::detail {

// What is wrong with the link or attribute storage named by the object header at address
// `header` (relative to layout.base), nullopt when nothing is. Names the message, its file
// offset, the address and what was found there.
std::optional<std::string> find_storage_damage(const FileBytes& bytes, const FileLayout& layout, uint64_t header);

}  // namespace minidl::h5::detail
