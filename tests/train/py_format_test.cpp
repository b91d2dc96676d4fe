// The Python str.format subset used for ModelCheckpoint paths, and Python's
// float repr (expected strings are what CPython 3 prints).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/errors.h"
#include "train/py_format.h"

using namespace minidl;

TEST(PyFloatRepr, MatchesPythonRepr) {
  EXPECT_EQ(py_float_repr(1.0), "1.0");
  EXPECT_EQ(py_float_repr(0.1), "0.1");
  EXPECT_EQ(py_float_repr(-2.5), "-2.5");
  EXPECT_EQ(py_float_repr(1e-05), "1e-05");
  EXPECT_EQ(py_float_repr(0.0001), "0.0001");
  EXPECT_EQ(py_float_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(py_float_repr(1e16), "1e+16");
  EXPECT_EQ(py_float_repr(double(0.1f)), "0.10000000149011612");
  EXPECT_EQ(py_float_repr(0.0), "0.0");
  EXPECT_EQ(py_float_repr(std::nan("")), "nan");
  EXPECT_EQ(py_float_repr(-std::numeric_limits<double>::infinity()), "-inf");
}

TEST(PyFormat, KerasCheckpointPatterns) {
  std::map<std::string, PyValue> kw{{"epoch", int64_t{3}}, {"val_loss", 0.4567}, {"val_accuracy", 0.91234}};
  EXPECT_EQ(py_format("weights.{epoch:02d}-{val_loss:.2f}.hdf5", kw), "weights.03-0.46.hdf5");
  EXPECT_EQ(py_format("model_{epoch}_{val_accuracy:.4f}.h5", kw), "model_3_0.9123.h5");
  EXPECT_EQ(py_format("{epoch:03}", kw), "003");
  EXPECT_EQ(py_format("plain.h5", kw), "plain.h5");
}

TEST(PyFormat, SpecsFollowPythonMiniLanguage) {
  std::map<std::string, PyValue> kw{{"i", int64_t{42}}, {"f", 0.5}, {"n", -1.25}, {"one", 1.0}};
  EXPECT_EQ(py_format("{f}", kw), "0.5");
  EXPECT_EQ(py_format("{one}", kw), "1.0");          // str(float), not "1"
  EXPECT_EQ(py_format("{one:8}", kw), "     1.0");   // numbers align right
  EXPECT_EQ(py_format("{n:<8}|", kw), "-1.25   |");
  EXPECT_EQ(py_format("{n:08.2f}", kw), "-0001.25");  // zero padding after the sign
  EXPECT_EQ(py_format("{f:+.1e}", kw), "+5.0e-01");
  EXPECT_EQ(py_format("{f:.1%}", kw), "50.0%");
  EXPECT_EQ(py_format("{i:.2f}", kw), "42.00");      // ints take float types
  EXPECT_EQ(py_format("{i:x}/{i:>5}/{i:*^6}", kw), "2a/   42/**42**");
  EXPECT_EQ(py_format("{i!r}", kw), "42");
  EXPECT_EQ(py_format("{{epoch}} {i}", kw), "{epoch} 42");
}

TEST(PyFormat, ErrorsAreValueErrorsNamingThePattern) {
  std::map<std::string, PyValue> kw{{"epoch", int64_t{1}}, {"loss", 0.5}};
  for (const char* bad : {"{val_loss}", "{}", "{0}", "{epoch", "epoch}", "{loss:d}", "{epoch:.2d}", "{loss:,.2f}",
                          "{loss.real}", "{epoch:{loss}}", "{loss!z}", "{loss:=10}", "{loss:99999999999f}",
                          "{epoch:.}"}) {
    try {
      py_format(bad, kw);
      ADD_FAILURE() << "no error for " << bad;
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}
