#include "epe/io/gbuffers.h"

#include <gtest/gtest.h>

#include "epe/core/error.h"
#include "epe/core/half.h"
#include "epe/io/h5.h"
#include "epe/io/npz.h"
#include "test_util.h"

namespace epe {

namespace {
GBuffers sample(int h, int w, int c) {
  GBuffers g;
  g.height = h;
  g.width = w;
  g.channels = c;
  for (int i = 0; i < h * w * c; ++i) g.data.push_back(0.001f * i - 1.5f);
  for (int i = 0; i < c; ++i) g.names.push_back("ch" + std::to_string(i));
  return g;
}
}  // namespace

TEST(GBuffers, OurHdf5FormatRoundTripsAtHalfPrecision) {
  test::TempDir dir;
  GBuffers g = sample(5, 7, 3);
  write_gbuffers(dir / "g.h5", g);
  GBuffers r = read_gbuffers(dir / "g.h5");
  EXPECT_EQ(r.height, 5);
  EXPECT_EQ(r.width, 7);
  EXPECT_EQ(r.channels, 3);
  EXPECT_EQ(r.names, g.names);
  EXPECT_EQ(r.format, "epe-hdf5");
  for (std::size_t i = 0; i < g.data.size(); ++i) ASSERT_EQ(r.data[i], half_to_float(float_to_half(g.data[i])));
  GBufferHeader h = probe_gbuffers(dir / "g.h5");
  EXPECT_EQ(h.channels, 3);
  EXPECT_EQ(h.height, 5);
}

TEST(GBuffers, ReferenceNpzIsReadInFloat16AndFloat32) {
  test::TempDir dir;
  GBuffers g = sample(4, 6, 2);
  write_npz(dir / "f32.npz", {{"data", NpyArray::from_float(g.data, {4, 6, 2}, false)}});
  write_npz(dir / "f16.npz", {{"data", NpyArray::from_float(g.data, {4, 6, 2}, true)}}, true);
  GBuffers a = read_gbuffers(dir / "f32.npz");
  EXPECT_EQ(a.data, g.data);
  EXPECT_EQ(a.names, (std::vector<std::string>{"c0", "c1"}));
  GBuffers b = read_gbuffers(dir / "f16.npz");
  EXPECT_EQ(b.data[5], half_to_float(float_to_half(g.data[5])));
  EXPECT_EQ(b.format, "reference-npz");
}

TEST(GBuffers, BadFilesAreReported) {
  test::TempDir dir;
  // wrong number of dimensions
  write_npz(dir / "2d.npz", {{"data", NpyArray::from_float(std::vector<float>(6, 0.f), {2, 3}, false)}});
  EXPECT_THROW(read_gbuffers(dir / "2d.npz"), UserError);
  // wrong key
  write_npz(dir / "key.npz", {{"gbuffers", NpyArray::from_float(std::vector<float>(6, 0.f), {1, 2, 3}, false)}});
  try {
    read_gbuffers(dir / "key.npz");
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("gbuffers"), std::string::npos) << "lists the keys present: " << e.what();
  }
  // truncated HDF5
  write_gbuffers(dir / "t.h5", sample(32, 32, 4));
  test::truncate_file(dir / "t.h5", 1500);
  EXPECT_THROW(read_gbuffers(dir / "t.h5"), UserError);
  // HDF5 without /gbuffers
  {
    H5::H5File f = h5::create_file(dir / "other.h5");
    h5::write<float>(f, "/x", std::vector<float>{1, 2}, {2});
  }
  EXPECT_THROW(read_gbuffers(dir / "other.h5"), UserError);
  // another store kind
  {
    H5::H5File f = h5::create_file(dir / "store.h5");
    h5::write_store_header(f, "crops", 1, "epe crops", "");
  }
  EXPECT_THROW(probe_gbuffers(dir / "store.h5"), UserError);
  EXPECT_THROW(read_gbuffers(dir / "missing.h5"), UserError);
}

}  // namespace epe
