#include "epe/io/npz.h"

#include <gtest/gtest.h>

#include "epe/core/error.h"
#include "test_util.h"

namespace epe {

TEST(Npz, ArraysRoundTripStoredAndCompressed) {
  test::TempDir dir;
  std::vector<double> w = {1.0, 2.5, 1e-9};
  for (bool compress : {false, true}) {
    std::string p = dir / (compress ? "c.npz" : "s.npz");
    write_npz(p,
              {{"w", NpyArray::from_double(w, {3, 1})},
               {"crops", NpyArray::from_float({0.5f, 0.25f, -1.f, 2.f}, {2, 2}, true)}},
              compress);
    auto all = read_npz(p);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all["w"].shape, (std::vector<std::size_t>{3, 1}));
    EXPECT_EQ(all["w"].dtype, "<f8");
    EXPECT_EQ(all["w"].to_double(), w);
    EXPECT_EQ(all["crops"].dtype, "<f2");
    EXPECT_EQ(all["crops"].to_float(), (std::vector<float>{0.5f, 0.25f, -1.f, 2.f}));
  }
  EXPECT_EQ(test::read_text(dir / "s.npz"), [&] {
    write_npz(dir / "again.npz", {{"w", NpyArray::from_double(w, {3, 1})},
                                  {"crops", NpyArray::from_float({0.5f, 0.25f, -1.f, 2.f}, {2, 2}, true)}});
    return test::read_text(dir / "again.npz");
  }()) << "same arrays must give the same bytes";
}

TEST(Npz, NpyHeaderFollowsTheNumpyFormat) {
  NpyArray a = NpyArray::from_float({1.f, 2.f, 3.f}, {3}, false);
  auto bytes = serialize_npy(a);
  std::string s(bytes.begin(), bytes.end());
  EXPECT_EQ(s.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_NE(s.find("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"), std::string::npos);
  EXPECT_EQ((bytes.size() - 12) % 64, 0u);  // header padded so data starts 64-aligned
  NpyArray back = parse_npy(bytes.data(), bytes.size(), "x");
  EXPECT_EQ(back.shape, (std::vector<std::size_t>{3}));
  EXPECT_EQ(back.to_float(), (std::vector<float>{1.f, 2.f, 3.f}));
  EXPECT_THROW(parse_npy(bytes.data(), bytes.size() - 4, "x"), UserError);  // truncated data
}

TEST(Npz, DamagedOrForeignArchivesAreReported) {
  test::TempDir dir;
  test::write_text(dir / "x.npz", "not a zip");
  EXPECT_THROW(read_npz(dir / "x.npz"), UserError);
  write_npz(dir / "ok.npz", {{"a", NpyArray::from_double({1, 2, 3, 4, 5, 6, 7, 8}, {8})}});
  test::truncate_file(dir / "ok.npz", 60);
  EXPECT_THROW(read_npz(dir / "ok.npz"), UserError);
  EXPECT_THROW(read_npz(dir / "missing.npz"), UserError);
  // Headers that lie about the shape never read past the data.
  for (const char* shape : {"(-1,)", "(abc,)", "(99999999999, 99999999999)"}) {
    std::string h = std::string("{'descr': '<f4', 'fortran_order': False, 'shape': ") + shape + ", }";
    std::string npy = std::string("\x93NUMPY\x01\x00", 8) + char(h.size()) + '\0' + h + std::string(16, '\0');
    EXPECT_THROW(parse_npy(reinterpret_cast<const std::uint8_t*>(npy.data()), npy.size(), "x"), UserError) << shape;
  }
}

}  // namespace epe
