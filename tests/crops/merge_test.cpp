// epe crops --shard I/N and merge_crop_shards (lib/epe/crops/merge.cpp).
#include <H5Cpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "crops_test_util.h"
#include "epe/crops/crop_store.h"
#include "epe/crops/crops.h"
#include "epe/io/h5.h"

namespace fs = std::filesystem;

namespace epe::test {
namespace {

// Every root attribute of a store as text.
std::map<std::string, std::string> attributes(const std::string& path) {
  H5::H5File f = h5::open_file(path);
  std::map<std::string, std::string> out;
  for (int i = 0; i < f.getNumAttrs(); ++i) {
    H5::Attribute a = f.openAttribute(static_cast<unsigned>(i));
    out[a.getName()] = h5::attr_as_text(a);
  }
  return out;
}

// Five frames of three sizes, and the list naming them.
std::string five_frame_list(const TempDir& dir) {
  std::vector<std::string> frames;
  const int sizes[5][2] = {{212, 260}, {228, 230}, {212, 260}, {200, 244}, {244, 212}};
  for (int i = 0; i < 5; ++i) frames.push_back(write_frame(dir, cat("f", i, ".png"), sizes[i][0], sizes[i][1], 10 + i));
  return write_list(dir, "list.csv", frames);
}

// Runs every shard of `count` into dir/<stem>.<i>.h5 and returns their paths in reverse order
// (the merge must not depend on the order given).
std::vector<std::string> run_shards(const TempDir& dir, CropsOptions o, int count, const std::string& stem) {
  std::vector<std::string> out;
  for (int i = count - 1; i >= 0; --i) {
    o.shard = Shard{i, count};
    o.out = dir / cat(stem, ".", i, ".h5");
    CropsResult r = compute_crops(o);
    EXPECT_EQ(r.row_begin, o.shard.rows(5).first);
    EXPECT_EQ(r.row_end, o.shard.rows(5).second);
    out.push_back(o.out);
  }
  return out;
}

void expect_same_store(const std::string& merged, const std::string& whole) {
  CropStore a(whole), b(merged);
  EXPECT_EQ(a.image_paths(), b.image_paths());
  EXPECT_EQ(a.image_sizes(), b.image_sizes());
  EXPECT_EQ(a.boxes(), b.boxes());
  EXPECT_EQ(a.features_f16(0, a.size()), b.features_f16(0, b.size()));
  std::map<std::string, std::string> ta = attributes(whole), tb = attributes(merged);
  for (const char* k : {"created", "command"}) {
    EXPECT_EQ(ta.count(k), 1u) << k;
    ta.erase(k);
    tb.erase(k);
  }
  EXPECT_EQ(ta, tb);
  EXPECT_EQ(ta.count("shard_index"), 0u);
  EXPECT_EQ(ta.at("list_rows"), "5");
}

TEST(CropMerge, ShardsMergeIntoExactlyTheUnshardedStore) {
  TempDir dir;
  CropsOptions o = quiet_options(five_frame_list(dir), dir / "whole-random.h5");
  o.crops_per_image = 3;
  o.seed = 7;
  o.options_ini = "crops-per-image = 3\nseed = 7\n";
  compute_crops(o);
  // 3 shards of 5 rows (1, 2, 2 frames) and 7 shards (two of them empty).
  for (int count : {3, 7}) {
    std::vector<std::string> shards = run_shards(dir, o, count, cat("random", count));
    const std::string merged = dir / cat("merged-random", count, ".h5");
    MergeResult r = merge_crop_shards(shards, merged, false, "epe merge crops ...");
    EXPECT_EQ(r.shards, count);
    EXPECT_EQ(r.frames, 5);
    EXPECT_EQ(r.crops, 15);
    expect_same_store(merged, o.out);
  }
  // Grid mode with a seeded subsample per frame (seeded by the global row) and frames of
  // several sizes.
  o.mode = CropMode::grid;
  o.max_per_image = 2;
  o.out = dir / "whole-grid.h5";
  o.options_ini = "mode = grid\nmax-per-image = 2\nseed = 7\n";
  compute_crops(o);
  const std::string merged = dir / "merged-grid.h5";
  merge_crop_shards(run_shards(dir, o, 2, "grid"), merged, false, "epe merge crops ...");
  expect_same_store(merged, o.out);
  EXPECT_EQ(CropStore(merged).size(), 5 * 2);  // every frame has at least 2 grid positions
}

TEST(CropMerge, MissingDuplicatedOrMismatchedShardsAreErrorsAndWriteNothing) {
  TempDir dir;
  const std::string list = five_frame_list(dir);
  CropsOptions o = quiet_options(list, "");
  o.crops_per_image = 2;
  o.options_ini = "crops-per-image = 2\n";
  const std::vector<std::string> two = run_shards(dir, o, 2, "two");  // two.1.h5, two.0.h5
  const std::string out = dir / "merged.h5";
  auto fails = [&](const std::vector<std::string>& shards, const std::string& needle) {
    const std::string m = user_error_message([&] { merge_crop_shards(shards, out, false, "merge"); });
    EXPECT_TRUE(contains(m, needle)) << m;
    EXPECT_FALSE(fs::exists(out)) << needle;
    EXPECT_FALSE(fs::exists(out + ".partial")) << needle;
  };
  fails({two[0]}, "shard 0/2 of 2 is missing (1 of 2 given)");
  fails({two[0], two[1], two[0]}, "shard 1/2 is given twice");
  // A shard of a split into 3.
  CropsOptions three = o;
  three.shard = Shard{0, 3};
  three.out = dir / "three.0.h5";
  compute_crops(three);
  fails({two[0], three.out}, "splits into different numbers of parts");
  // Other options (the seed), other list content, a store that is not a shard.
  CropsOptions seeded = o;
  seeded.seed = 1;
  seeded.options_ini = "crops-per-image = 2\nseed = 1\n";
  seeded.shard = Shard{0, 2};
  seeded.out = dir / "seeded.0.h5";
  compute_crops(seeded);
  fails({two[0], seeded.out}, "other options");
  seeded.options_ini = o.options_ini;  // same recorded options, other seed: caught by the metadata
  seeded.out = dir / "seeded-b.0.h5";
  compute_crops(seeded);
  fails({two[0], seeded.out}, "attribute 'seed' is '0' in '" + two[0] + "' but '1' in '" + seeded.out + "'");
  write_text(dir / "other.csv", read_text(list) + read_text(list).substr(read_text(list).find('\n') + 1));
  CropsOptions other = o;
  other.list = dir / "other.csv";
  other.shard = Shard{0, 2};
  other.out = dir / "other.0.h5";
  compute_crops(other);
  fails({two[0], other.out}, "a shard of another list");
  CropsOptions whole = o;
  whole.out = dir / "whole.h5";
  compute_crops(whole);
  fails({two[0], whole.out}, "is not a shard");
  // An existing output is kept without --force.
  write_text(out, "keep");
  EXPECT_TRUE(contains(user_error_message([&] { merge_crop_shards(two, out, false, "merge"); }), "--force"));
  EXPECT_EQ(read_text(out), "keep");
  EXPECT_EQ(merge_crop_shards(two, out, true, "merge").crops, 10);
}

TEST(CropMerge, ARerunShardSkipsItsCompleteStoreAndRefusesAnother) {
  TempDir dir;
  CropsOptions o = quiet_options(five_frame_list(dir), dir / "s1.h5");
  o.crops_per_image = 2;
  o.options_ini = "crops-per-image = 2\n";
  o.shard = Shard{1, 2};
  CropsResult first = compute_crops(o);
  EXPECT_FALSE(first.already_complete);
  EXPECT_EQ(first.crops, 6);  // rows 2, 3, 4
  const std::string created = attributes(o.out).at("created");
  CropsResult again = compute_crops(o);
  EXPECT_TRUE(again.already_complete);
  EXPECT_EQ(again.crops, 6);
  EXPECT_EQ(again.frames, 3);
  EXPECT_EQ(attributes(o.out).at("created"), created);
  // The same file asked for as another shard, or with other options: an error, untouched.
  CropsOptions other = o;
  other.shard = Shard{0, 2};
  EXPECT_TRUE(contains(user_error_message([&] { compute_crops(other); }), "it is shard 1/2"));
  other = o;
  other.options_ini = "crops-per-image = 3\n";
  EXPECT_TRUE(contains(user_error_message([&] { compute_crops(other); }), "options differ"));
  EXPECT_EQ(attributes(o.out).at("created"), created);
  // --force recomputes it.
  other.force = true;
  EXPECT_FALSE(compute_crops(other).already_complete);
}

TEST(CropMerge, AResumeRefusesAPartialStartedAsAnotherShardOrUnsharded) {
  TempDir dir;
  const std::string list = five_frame_list(dir);
  const std::string frame1 = dir / "f1.png", good = read_text(frame1);
  CropsOptions o = quiet_options(list, dir / "s0.h5");
  o.crops_per_image = 2;
  o.batch = 2;            // one frame per commit
  o.shard = Shard{0, 2};  // rows 0 and 1
  truncate_file(frame1, 100);
  EXPECT_TRUE(contains(user_error_message([&] { compute_crops(o); }), "f1.png"));
  ASSERT_TRUE(fs::exists(dir / "s0.h5.partial"));
  write_text(frame1, good);
  CropsOptions other = o;
  other.resume = true;
  other.shard = Shard{1, 2};
  std::string e = user_error_message([&] { compute_crops(other); });
  EXPECT_TRUE(contains(e, "started as shard 0/2") && contains(e, "this run is shard 1/2")) << e;
  other.shard = Shard{};
  e = user_error_message([&] { compute_crops(other); });
  EXPECT_TRUE(contains(e, "started as shard 0/2") && contains(e, "this run is unsharded")) << e;
  ASSERT_TRUE(fs::exists(dir / "s0.h5.partial"));  // refused, not discarded
  o.resume = true;
  const CropsResult r = compute_crops(o);
  EXPECT_EQ(r.frames_resumed, 1);
  EXPECT_EQ(r.crops, 4);
  EXPECT_FALSE(fs::exists(dir / "s0.h5.partial"));
}

}  // namespace
}  // namespace epe::test
