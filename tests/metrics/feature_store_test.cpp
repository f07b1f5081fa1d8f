// Feature shards (`epe metrics --shard I/N`) and their merge into the feature cache: the merged
// store equals the one an unsharded extraction caches, bit for bit, and every way a set of
// shards can be wrong is an error that writes nothing.

#include "epe/metrics/feature_store.h"

#include <H5Cpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <opencv2/imgproc.hpp>

#include "epe/core/error.h"
#include "epe/io/h5.h"
#include "epe/io/image.h"
#include "epe/metrics/features.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace epe::test {
namespace {

// `n` distinct 40x60 frames in dir/imgs.
ImageSet write_frames(const TempDir& dir, int n) {
  fs::create_directories(dir / "imgs");
  for (int i = 0; i < n; ++i) {
    cv::Mat m(40, 60, CV_32FC3, cv::Scalar(0.1 + 0.11 * i, 0.5 - 0.05 * i, 0.9 - 0.1 * i));
    cv::rectangle(m, cv::Rect(3 * i, 2 * i, 10, 12), cv::Scalar(0.9, 0.1 * i, 0.2), -1);
    write_png(dir / cat("imgs/", i, ".png"), m);
  }
  return read_image_set(dir / "imgs");
}

ExtractorOptions small_vgg(const std::string& tap = "relu2_2") {
  ExtractorOptions o;
  o.vgg_size = "32x32";
  o.vgg_tap = tap;
  o.batch = 3;  // batches [0,3) [3,6) [6,7): no shard boundary below falls on one
  return o;
}

struct StoreText {
  std::vector<float> features;
  std::vector<hsize_t> dims;
  std::vector<std::string> images;
  std::string key, source, set_checksum, extractor;
  bool shard_attrs = false;
};

StoreText read_store(const std::string& path) {
  H5::H5File f = h5::open_store(path, kFeatureStoreFormat, kFeatureStoreVersion);
  StoreText s;
  s.features = h5::read<float>(f, "/features", &s.dims);
  s.images = h5::read_strings(f, "/images");
  s.key = h5::attr_string(f, "key");
  s.source = h5::attr_string(f, "source");
  s.set_checksum = h5::attr_string(f, "set_checksum");
  s.extractor = h5::attr_string(f, "extractor");
  s.shard_attrs = h5::has_attr(f, "shard_count") || h5::has_attr(f, "extractor_name");
  return s;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(FeatureShards, MergeIntoTheStoreAnUnshardedExtractionCaches) {
  TempDir dir;
  const ImageSet set = write_frames(dir, 7);
  auto ex = make_vgg_extractor(small_vgg());
  bool hit = true;
  const FeatureMatrix whole = cached_features(*ex, set, dir / "cache-a", &hit);
  ASSERT_FALSE(hit);
  ASSERT_EQ(whole.n, 7);
  const std::string key = feature_cache_key(*ex, set);
  const StoreText a = read_store(feature_cache_path(dir / "cache-a", "vgg", key));

  for (int count : {3, 9}) {  // 9 > 7 images: two shards are empty
    SCOPED_TRACE(count);
    const std::string shards = dir / cat("shards-", count), cache = dir / cat("cache-", count);
    std::int64_t rows = 0;
    for (int i = count - 1; i >= 0; --i) {  // any order
      const FeatureShardResult r = write_feature_shard(*ex, set, Shard{i, count}, shards, false, nullptr);
      EXPECT_FALSE(r.already_complete);
      EXPECT_EQ(r.path, feature_shard_path(shards, "vgg", key, Shard{i, count}));
      EXPECT_EQ(r.row_begin, i * 7 / count);
      EXPECT_EQ(r.row_end, (i + 1) * 7 / count);
      rows += r.row_end - r.row_begin;
    }
    EXPECT_EQ(rows, 7);
    // A rerun of a finished shard extracts nothing.
    EXPECT_TRUE(write_feature_shard(*ex, set, Shard{1, count}, shards, false, nullptr).already_complete);

    const FeatureMergeResult m = merge_feature_shards({shards}, cache, false);
    EXPECT_EQ(m.shards, count);
    EXPECT_EQ(m.rows, 7);
    ASSERT_EQ(m.stores.size(), 1u);
    EXPECT_EQ(m.stores[0], feature_cache_path(cache, "vgg", key));
    const StoreText b = read_store(m.stores[0]);
    EXPECT_EQ(b.dims, a.dims);
    EXPECT_EQ(b.features, a.features);  // bit for bit
    EXPECT_EQ(b.images, a.images);
    EXPECT_EQ(b.key, a.key);
    EXPECT_EQ(b.source, a.source);
    EXPECT_EQ(b.set_checksum, a.set_checksum);
    EXPECT_EQ(b.extractor, a.extractor);
    EXPECT_FALSE(b.shard_attrs);
    // The cache reads the merged store as its own.
    const FeatureMatrix again = cached_features(*ex, set, cache, &hit);
    EXPECT_TRUE(hit);
    EXPECT_EQ(again.data, whole.data);
  }
}

TEST(FeatureShards, WrongSetsOfShardsAreErrorsThatWriteNothing) {
  TempDir dir;
  const ImageSet set = write_frames(dir, 5);
  auto ex = make_vgg_extractor(small_vgg());
  const std::string s = dir / "shards";
  for (int i = 0; i < 3; ++i) write_feature_shard(*ex, set, Shard{i, 3}, s, false, nullptr);
  const std::string key = feature_cache_key(*ex, set);
  const std::string p0 = feature_shard_path(s, "vgg", key, Shard{0, 3});
  const std::string p1 = feature_shard_path(s, "vgg", key, Shard{1, 3});
  const std::string p2 = feature_shard_path(s, "vgg", key, Shard{2, 3});
  const std::string cache = dir / "cache";

  std::string e = error_of([&] { merge_feature_shards({p0, p2}, cache, false); });
  EXPECT_TRUE(contains(e, "shard 1/3 of 3 is missing")) << e;
  EXPECT_TRUE(contains(e, "vgg features of '" + set.source + "'")) << e;

  fs::create_directories(dir / "copy");
  fs::copy_file(p1, dir / "copy/again.h5");
  e = error_of([&] { merge_feature_shards({p0, p1, p2, dir / "copy/again.h5"}, cache, false); });
  EXPECT_TRUE(contains(e, "shard 1/3 is given twice")) << e;

  // Shard 1 made with another tap: another key, so the first group lacks shard 1 and the
  // error names the shard made differently.
  auto other = make_vgg_extractor(small_vgg("relu1_2"));
  const std::string s2 = dir / "other";
  const FeatureShardResult o1 = write_feature_shard(*other, set, Shard{1, 3}, s2, false, nullptr);
  e = error_of([&] { merge_feature_shards({p0, o1.path, p2}, cache, false); });
  EXPECT_TRUE(contains(e, "missing")) << e;
  EXPECT_TRUE(contains(e, "made with another extractor")) << e;
  EXPECT_TRUE(contains(e, "tap=relu1_2") && contains(e, "tap=relu2_2")) << e;

  // Not a shard: a complete cache store.
  cached_features(*ex, set, dir / "complete", nullptr);
  const std::string complete = feature_cache_path(dir / "complete", "vgg", key);
  e = error_of([&] { merge_feature_shards({p0, p1, p2, complete}, cache, false); });
  EXPECT_TRUE(contains(e, "is a complete feature store, not a shard")) << e;
  // A foreign HDF5 file and a truncated store.
  { H5::H5File f = h5::create_file(dir / "foreign.h5"); }
  e = error_of([&] { merge_feature_shards({p0, p1, p2, dir / "foreign.h5"}, cache, false); });
  EXPECT_TRUE(contains(e, "not an epe store")) << e;
  const auto size = fs::file_size(p2);
  fs::copy_file(p2, dir / "cut.h5");
  fs::resize_file(dir / "cut.h5", size / 2);
  e = error_of([&] { merge_feature_shards({p0, p1, dir / "cut.h5"}, cache, false); });
  EXPECT_TRUE(contains(e, "cut.h5")) << e;
  EXPECT_FALSE(fs::exists(cache)) << "nothing is written when the shards are wrong";

  // A store of another shard under this shard's name (renamed by hand) is not taken as done.
  fs::create_directories(dir / "renamed");
  fs::copy_file(p0, feature_shard_path(dir / "renamed", "vgg", key, Shard{1, 3}));
  e = error_of([&] { write_feature_shard(*ex, set, Shard{1, 3}, dir / "renamed", false, nullptr); });
  EXPECT_TRUE(contains(e, "holds other features") && contains(e, "shard 0/3") && contains(e, "--force")) << e;
  // A rerun over a damaged store names it and asks for --force; with it the shard is redone.
  fs::resize_file(p2, size / 2);
  e = error_of([&] { write_feature_shard(*ex, set, Shard{2, 3}, s, false, nullptr); });
  EXPECT_TRUE(contains(e, p2) && contains(e, "--force")) << e;
  EXPECT_FALSE(write_feature_shard(*ex, set, Shard{2, 3}, s, true, nullptr).already_complete);

  // The merge, then again without --force: the store exists.
  EXPECT_EQ(merge_feature_shards({s}, cache, false).stores.size(), 1u);
  e = error_of([&] { merge_feature_shards({s}, cache, false); });
  EXPECT_TRUE(contains(e, "exists; pass --force")) << e;
  EXPECT_EQ(merge_feature_shards({s}, cache, true).rows, 5);
  e = error_of([&] { merge_feature_shards({dir / "imgs"}, cache, true); });
  EXPECT_TRUE(contains(e, "has no feature shard stores")) << e;
}

}  // namespace
}  // namespace epe::test
