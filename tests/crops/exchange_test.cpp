#include "epe/crops/exchange.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "epe/core/half.h"
#include "epe/crops/crop_store.h"
#include "epe/crops/crops.h"
#include "epe/io/file_list.h"
#include "epe/io/image.h"
#include "epe/io/npz.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace epe::test {
namespace {

// A small store written directly (no network needed).
void write_store(const std::string& path, const std::vector<std::string>& images) {
  CropStoreMeta m;
  m.name = "game";
  m.dim = 4;
  CropStoreWriter w(path, m, "test", "");
  for (const auto& p : images) w.add_image(p, 100, 120);
  std::vector<CropBox> boxes = {{0, 0, 50, 10, 60}, {1, 20, 70, 0, 50}, {1, 50, 100, 70, 120}};
  std::vector<float> f = {0.5f, -1.25f, 2.f, 0.f, 1.f, 2.f, 3.f, 4.f, -0.125f, 0.25f, 65504.f, 1e-3f};
  w.add_crops(boxes.data(), f.data(), 3);
  w.commit(static_cast<std::int64_t>(images.size()), 0);
  w.finish();
}

TEST(CropExchange, ExportWritesTheReferenceFormats) {
  TempDir dir;
  write_store(dir / "c.h5", {"/data/a.png", "/data/b.png"});
  CropExportResult r = export_crops_epe(dir / "c.h5", dir.path(), "", false);
  EXPECT_EQ(r.csv, dir / "crop_game.csv");
  EXPECT_EQ(read_text(r.csv),
            "id,path,r0,r1,c0,c1\n0,/data/a.png,0,50,10,60\n1,/data/b.png,20,70,0,50\n2,/data/b.png,50,100,70,120\n");
  NpyArray a = read_npz_array(r.npz, "crops");
  EXPECT_EQ(a.dtype, "<f2");
  ASSERT_EQ(a.shape, (std::vector<std::size_t>{3, 4}));
  std::vector<float> v = a.to_float();
  EXPECT_EQ(v[1], -1.25f);
  EXPECT_EQ(v[10], 65504.f);
  EXPECT_EQ(v[11], half_to_float(float_to_half(1e-3f)));
  // No overwrite without force.
  EXPECT_NE(user_error_message([&] { export_crops_epe(dir / "c.h5", dir.path(), "", false); }).find("--force"),
            std::string::npos);
  EXPECT_NO_THROW(export_crops_epe(dir / "c.h5", dir.path(), "", true));
}

TEST(CropExchange, ImportRoundTripsAnExport) {
  TempDir dir;
  write_store(dir / "c.h5", {"/data/a.png", "/data/b.png"});
  CropExportResult r = export_crops_epe(dir / "c.h5", dir.path(), "", false);
  CropImportOptions o;
  o.csv = r.csv;
  o.npz = r.npz;
  o.out = dir / "back.h5";
  o.image_size = "100x120";
  CropImportResult ir = import_crops_epe(o);
  EXPECT_EQ(ir.crops, 3);
  EXPECT_EQ(ir.images, 2);
  CropStore a(dir / "c.h5"), b(dir / "back.h5");
  EXPECT_EQ(a.boxes(), b.boxes());
  EXPECT_EQ(a.image_paths(), b.image_paths());
  EXPECT_EQ(a.image_sizes(), b.image_sizes());
  EXPECT_EQ(a.features_f16(0, 3), b.features_f16(0, 3));
  EXPECT_EQ(b.meta().name, "game");
  EXPECT_EQ(b.meta().mode, "imported");
  EXPECT_EQ(b.meta().crop_size, 50);
  EXPECT_EQ(b.meta().weights.rfind("imported from crop_game.npz sha256:", 0), 0u);
}

TEST(CropExchange, ImportReadsFrameSizesFromTheFramesWhenNotGiven) {
  TempDir dir;
  write_png(dir / "a.png", cv::Mat(60, 80, CV_8UC3, cv::Scalar(1, 2, 3)));
  write_text(dir / "crop_x.csv", cat("id,path,r0,r1,c0,c1\n0,", dir / "a.png", ",0,50,30,80\n"));
  write_npz(dir / "crop_x.npz", {{"crops", NpyArray::from_float({1, 2, 3}, {1, 3}, true)}});
  CropImportOptions o;
  o.csv = dir / "crop_x.csv";
  o.npz = dir / "crop_x.npz";
  o.out = dir / "x.h5";
  import_crops_epe(o);
  CropStore s(dir / "x.h5");
  EXPECT_EQ(s.image_sizes()[0], (std::array<std::int32_t, 2>{60, 80}));
  EXPECT_EQ(s.dim(), 3);
  // A box outside the given size is an error naming the CSV; nothing is written.
  o.out = dir / "y.h5";
  o.image_size = "40x80";
  std::string msg = user_error_message([&] { import_crops_epe(o); });
  EXPECT_NE(msg.find("crop_x.csv"), std::string::npos) << msg;
  EXPECT_NE(msg.find("40x80"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(dir / "y.h5"));
}

TEST(CropExchange, ImportPairsBoxesWithFeaturesByIdNotByLine) {
  TempDir dir;
  write_npz(dir / "crop_x.npz", {{"crops", NpyArray::from_float({1, 1, 2, 2, 3, 3}, {3, 2}, true)}});
  // Rows sorted by path, ids out of order: row i of the .npz still belongs to id i.
  write_text(dir / "crop_x.csv", "id,path,r0,r1,c0,c1\n2,a.png,20,30,0,10\n0,b.png,0,10,0,10\n1,b.png,5,15,5,15\n");
  CropImportOptions o;
  o.csv = dir / "crop_x.csv";
  o.npz = dir / "crop_x.npz";
  o.out = dir / "x.h5";
  o.image_size = "40x40";
  import_crops_epe(o);
  CropStore s(dir / "x.h5");
  EXPECT_EQ(s.boxes()[0].r0, 0);
  EXPECT_EQ(s.boxes()[2].r0, 20);
  EXPECT_EQ(s.image_paths()[s.boxes()[2].image], "a.png");
  EXPECT_EQ(s.features(2, 1), (std::vector<float>{3, 3}));
  write_text(o.csv, "id,path,r0,r1,c0,c1\n0,a.png,0,10,0,10\n0,b.png,0,10,0,10\n1,b.png,5,15,5,15\n");
  o.out = dir / "y.h5";
  EXPECT_NE(user_error_message([&] { import_crops_epe(o); }).find("each of 0..2 once"), std::string::npos);
}

TEST(CropExchange, ImportErrorsNameTheFileAndLine) {
  TempDir dir;
  write_npz(dir / "crop_x.npz", {{"crops", NpyArray::from_float({1, 2, 3, 4}, {2, 2}, true)}});
  CropImportOptions o;
  o.csv = dir / "crop_x.csv";
  o.npz = dir / "crop_x.npz";
  o.out = dir / "x.h5";
  o.image_size = "100x100";
  write_text(o.csv, "id,path,r0,r1,c0,c1\n0,a.png,0,50,0,50\n1,a.png,0,5x,0,50\n");
  EXPECT_NE(user_error_message([&] { import_crops_epe(o); }).find("crop_x.csv:3"), std::string::npos);
  write_text(o.csv, "id,path,r0,r1,c0,c1\n0,a.png,0,50,0,50\n");
  EXPECT_NE(user_error_message([&] { import_crops_epe(o); }).find("one per CSV row"), std::string::npos);
  write_text(o.csv, "id,path,r0,r1,c0,c1\n0,a.png,0,50,0,50\n1,b.png,0,50\n");
  EXPECT_NE(user_error_message([&] { import_crops_epe(o); }).find("6 columns"), std::string::npos);
  o.image_size = "100by100";
  EXPECT_NE(user_error_message([&] { import_crops_epe(o); }).find("--image-size"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "x.h5"));
}

}  // namespace
}  // namespace epe::test
