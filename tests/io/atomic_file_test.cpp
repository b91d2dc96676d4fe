#include "io/atomic_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "core/errors.h"
#include "io/hdf5.h"
#include "io_test_util.h"
#include "testing.h"

using namespace minidl;
namespace fs = std::filesystem;
using minidl::testing::read_file;
using minidl::testing::write_file;

namespace {
size_t entries_in(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}
}  // namespace

TEST(AtomicWrite, ReplacesTheTargetWithWhatTheWriterWrote) {
  const fs::path dir = minidl::testing::fresh_dir();
  const fs::path target = dir / "out.bin";
  write_file(target, "old");
  atomic_write(target.string(), [&](const std::string& tmp) {
    EXPECT_EQ(fs::path(tmp).parent_path(), dir);
    EXPECT_NE(fs::path(tmp), target);
    write_file(tmp, "new contents");
  });
  EXPECT_EQ(read_file(target), "new contents");
  EXPECT_EQ(entries_in(dir), 1u);  // no temp file left behind
}

TEST(AtomicWrite, KeepsTheOldFileAndRemovesTheTempWhenTheWriterThrows) {
  const fs::path dir = minidl::testing::fresh_dir();
  const fs::path target = dir / "model.h5";
  write_file(target, "previous model");
  EXPECT_THROW(atomic_write(target.string(),
                            [&](const std::string& tmp) {
                              write_file(tmp, "half written");
                              throw std::runtime_error("disk on fire");
                            }),
               std::runtime_error);
  EXPECT_EQ(read_file(target), "previous model");
  EXPECT_EQ(entries_in(dir), 1u);
}

TEST(AtomicWrite, KeepsTheOldFileWhenAnHdf5WriterFails) {
  const fs::path dir = minidl::testing::fresh_dir();
  const fs::path target = dir / "model.h5";
  write_file(target, "previous model");
  EXPECT_THROW(atomic_write(target.string(),
                            [&](const std::string& tmp) {
                              h5::H5File f = h5::H5File::create(tmp);
                              f.root().create_group("g");
                              f.root().create_group("g");  // IOError: already exists
                            }),
               IOError);
  EXPECT_EQ(read_file(target), "previous model");
  EXPECT_EQ(entries_in(dir), 1u);
}

TEST(AtomicWrite, WriterThatCreatesNothingIsAnIOError) {
  const fs::path target = minidl::testing::fresh_dir() / "x";
  EXPECT_THROW(atomic_write(target.string(), [](const std::string&) {}), IOError);
  EXPECT_FALSE(fs::exists(target));
}

TEST(AtomicWrite, CreatesTheTargetWhenItDidNotExist) {
  const fs::path target = minidl::testing::fresh_dir() / "fresh.h5";
  atomic_write(target.string(), [](const std::string& tmp) {
    h5::H5File f = h5::H5File::create(tmp);
    f.root().write_int_attr("x", 7);
    f.close();
  });
  EXPECT_EQ(h5::H5File::open_read(target.string()).root().read_int_attr("x"), 7);
}
