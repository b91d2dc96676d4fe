/* tests/io/data/make_v2_header_file.c — writes v2_header_strings.h5, the version 2 object
 * header file of tests/io/hdf5_heap_id_test.cpp (minidl's own writer makes version 1
 * headers only, and the tests cannot include <hdf5.h>). Not part of the build:
 *   h5cc -o /tmp/make_v2 tests/io/data/make_v2_header_file.c && /tmp/make_v2 tests/io/data/v2_header_strings.h5
 * Contents, all with the latest file format (version 2 object headers):
 *   /compact  a group tracking attribute creation order, with 24 compact attributes (the
 *             phase change is raised so none go dense), so its header needs continuation
 *             chunks: "a00".."a21" scalar variable-length strings of 40 + i characters,
 *             "empty" the empty string, "names" three variable-length strings
 *             "alpha", "beta", "gamma";
 *   /side00../side21  empty groups made between the attributes of /compact;
 *   /dense    a group with 12 variable-length string attributes "d00".."d11" of 5 + i
 *             characters, over the default compact maximum of 8: dense storage. */
#include <hdf5.h>
#include <stdio.h>
#include <string.h>

static void put_string(hid_t obj, const char* name, const char* value) {
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attr, type, &value);
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
}

static void put_filled(hid_t obj, const char* name, size_t n, char fill) {
  char buf[128];
  memset(buf, fill, n);
  buf[n] = '\0';
  put_string(obj, name, buf);
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  hid_t file = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, fapl);

  hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
  H5Pset_attr_creation_order(gcpl, H5P_CRT_ORDER_TRACKED);
  H5Pset_attr_phase_change(gcpl, 1000, 900);
  hid_t compact = H5Gcreate2(file, "compact", H5P_DEFAULT, gcpl, H5P_DEFAULT);
  char name[16];
  for (int i = 0; i < 22; ++i) {
    snprintf(name, sizeof name, "a%02d", i);
    put_filled(compact, name, (size_t)(40 + i), (char)('a' + i));
    snprintf(name, sizeof name, "side%02d", i);  /* something after the header, so it cannot grow in place */
    H5Gclose(H5Gcreate2(file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  }
  put_string(compact, "empty", "");
  const char* names[3] = {"alpha", "beta", "gamma"};
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  hsize_t dims[1] = {3};
  hid_t space = H5Screate_simple(1, dims, NULL);
  hid_t attr = H5Acreate2(compact, "names", type, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attr, type, names);
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
  H5Gclose(compact);
  H5Pclose(gcpl);

  hid_t dense = H5Gcreate2(file, "dense", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  for (int i = 0; i < 12; ++i) {
    snprintf(name, sizeof name, "d%02d", i);
    put_filled(dense, name, (size_t)(5 + i), (char)('A' + i));
  }
  H5Gclose(dense);
  H5Fclose(file);
  H5Pclose(fapl);
  return 0;
}
