#include "epe/io/h5.h"

#include <gtest/gtest.h>

#include "epe/core/error.h"
#include "epe/core/half.h"
#include "epe/io/inspect.h"
#include "test_util.h"

namespace epe {

TEST(H5, DatasetsOfEveryTypeAndStringsRoundTrip) {
  test::TempDir dir;
  std::string p = dir / "s.h5";
  {
    H5::H5File f = h5::create_file(p);
    h5::write<std::int32_t>(f, "/crops/box", std::vector<std::int32_t>{1, 2, 3, 4, 5, 6, 7, 8}, {2, 4});
    h5::write<std::int64_t>(f, "/knn/index", std::vector<std::int64_t>{1LL << 40, -1}, {2});
    h5::WriteOptions half;
    half.float16 = true;
    half.compress = 4;
    h5::write<float>(f, "/features", std::vector<float>{0.5f, -0.25f, 3.0f, 1e-3f}, {2, 2}, half);
    h5::write<double>(f, "/pairs/weight", std::vector<double>{0.1, 1e300}, {2});
    h5::write_strings(f, "/images/path", {"a.png", "ü/b.png", ""});
  }
  H5::H5File f = h5::open_file(p);
  std::vector<hsize_t> dims;
  auto box = h5::read<std::int32_t>(f, "/crops/box", &dims);
  EXPECT_EQ(dims, (std::vector<hsize_t>{2, 4}));
  EXPECT_EQ(box[7], 8);
  EXPECT_EQ(h5::read<std::int64_t>(f, "/knn/index")[0], 1LL << 40);
  auto feat = h5::read<float>(f, "/features");
  EXPECT_EQ(feat[1], -0.25f);
  EXPECT_NEAR(feat[3], 1e-3f, 1e-6);
  EXPECT_EQ(h5::type_name(f.openDataSet("/features").getDataType()), "float16");
  EXPECT_EQ(h5::read<double>(f, "/pairs/weight")[1], 1e300);
  EXPECT_EQ(h5::read_strings(f, "/images/path"), (std::vector<std::string>{"a.png", "ü/b.png", ""}));
  EXPECT_TRUE(h5::exists(f, "/crops/box"));
  EXPECT_FALSE(h5::exists(f, "/nope/deeper"));
  EXPECT_THROW(h5::read<float>(f, "/nope"), UserError);
  EXPECT_THROW(h5::read<float>(f, "/images/path"), UserError);  // not numeric
}

TEST(H5, HalfPrecisionRoundsToNearestEvenNearPowersOfTwo) {
  // HDF5's own float -> half conversion turned 0.03124 into 0.015625; epe converts itself.
  test::TempDir dir;
  const std::vector<float> v = {0.0312499f, 0.03124f, 0.0624999f, 0.99999f, 65519.f, 6.1e-5f, 3e-8f, -0.0312499f};
  std::vector<float> expected;
  for (float x : v) expected.push_back(half_to_float(float_to_half(x)));
  EXPECT_EQ(expected[0], 0.03125f);
  EXPECT_EQ(expected[1], 2047.f / 65536.f);
  h5::WriteOptions half;
  half.float16 = true;
  {
    H5::H5File f = h5::create_file(dir / "h.h5");
    h5::write<float>(f, "/a", v, {v.size()}, half);
    H5::DataSet rows = h5::create_rows<float>(f, "/b", {2}, 4, half);
    h5::append_rows(rows, v.data(), 4);
  }
  H5::H5File f = h5::open_file(dir / "h.h5");
  EXPECT_EQ(h5::read<float>(f, "/a"), expected);
  EXPECT_EQ(h5::read<float>(f, "/b"), expected);
  EXPECT_EQ(h5::read_rows<float>(h5::open_dataset(f, "/b"), 1, 2),
            std::vector<float>(expected.begin() + 2, expected.begin() + 6));
}

TEST(H5, AttributesRoundTrip) {
  test::TempDir dir;
  H5::H5File f = h5::create_file(dir / "a.h5");
  h5::set_attr(f, "s", std::string("text"));
  h5::set_attr(f, "i", std::int64_t(-5));
  h5::set_attr(f, "d", 2.5);
  h5::set_attr(f, "v", std::vector<double>{0.485, 0.456, 0.406});
  h5::set_attr(f, "names", std::vector<std::string>{"x", "y"});
  h5::set_attr(f, "s", std::string("replaced"));
  EXPECT_EQ(h5::attr_string(f, "s"), "replaced");
  EXPECT_EQ(h5::attr_int(f, "i"), -5);
  EXPECT_EQ(h5::attr_double(f, "d"), 2.5);
  EXPECT_EQ(h5::attr_doubles(f, "v")[2], 0.406);
  EXPECT_EQ(h5::attr_strings(f, "names"), (std::vector<std::string>{"x", "y"}));
  EXPECT_THROW(h5::attr_string(f, "missing"), UserError);
  EXPECT_THROW(h5::attr_int(f, "s"), UserError);
}

TEST(H5, StoreFormatIsCheckedOnOpen) {
  test::TempDir dir;
  {
    H5::H5File f = h5::create_file(dir / "crops.h5");
    h5::write_store_header(f, "crops", 1, "epe crops --list x", "list = x\n");
  }
  EXPECT_NO_THROW(h5::open_store(dir / "crops.h5", "crops", 1));
  auto expect_msg = [&](const std::string& path, const std::string& fmt, int ver, const std::string& needle) {
    try {
      h5::open_store(path, fmt, ver);
      FAIL() << path;
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_msg(dir / "crops.h5", "match", 1, "is a 'crops' store, expected a 'match' store");
  {
    H5::H5File f = h5::create_file(dir / "v9.h5");
    h5::write_store_header(f, "crops", 9, "", "");
  }
  expect_msg(dir / "v9.h5", "crops", 1, "format version 9");
  { H5::H5File f = h5::create_file(dir / "plain.h5"); }
  expect_msg(dir / "plain.h5", "crops", 1, "not an epe store");
  test::write_text(dir / "text.h5", "not hdf5");
  expect_msg(dir / "text.h5", "crops", 1, "not an HDF5 file");
  expect_msg(dir / "missing.h5", "crops", 1, "does not exist");
}

TEST(H5, TruncatedFilesNeverCrash) {
  test::TempDir dir;
  std::string p = dir / "big.h5";
  {
    H5::H5File f = h5::create_file(p);
    h5::write_store_header(f, "crops", 1, "cmd", "");
    h5::write<float>(f, "/features", std::vector<float>(200000, 1.f), {1000, 200});
  }
  std::size_t full = test::read_text(p).size();
  for (std::size_t keep : {std::size_t(100), std::size_t(2048), full / 2, full - 10}) {
    std::string q = dir / ("cut" + std::to_string(keep) + ".h5");
    test::write_text(q, test::read_text(p).substr(0, keep));
    try {
      H5::H5File f = h5::open_store(q, "crops", 1);
      h5::read<float>(f, "/features");
      FAIL() << "no error for a file cut at " << keep;
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find(q), std::string::npos) << e.what();
    }
    EXPECT_THROW(describe_file(q), UserError);
  }
}

TEST(Inspect, DescribesAStoreWithAttributesAndDatasets) {
  test::TempDir dir;
  {
    H5::H5File f = h5::create_file(dir / "s.h5");
    h5::write_store_header(f, "match", 1, "epe match --src a.h5", "k = 10\nmin-cosine = 0.5\n");
    h5::write<std::int64_t>(f, "/knn/index", std::vector<std::int64_t>(6, 0), {3, 2});
  }
  std::string d = describe_file(dir / "s.h5");
  EXPECT_NE(d.find("kind: match store, format version 1"), std::string::npos) << d;
  EXPECT_NE(d.find("command: epe match --src a.h5"), std::string::npos) << d;
  EXPECT_NE(d.find("/knn/index  3 x 2  int64"), std::string::npos) << d;
  EXPECT_NE(d.find("min-cosine = 0.5"), std::string::npos) << d;
  EXPECT_THROW(describe_file(dir / "none.h5"), UserError);
}

}  // namespace epe
