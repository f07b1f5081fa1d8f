// Sharded matching: parts of a source x target grid (`epe match --src-shard/--dst-shard`) and
// `epe merge match`, which must give exactly the store of one unsharded run.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "epe/io/h5.h"
#include "epe/match/knn.h"
#include "epe/match/match.h"
#include "epe/match/match_store.h"
#include "match_test_util.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace epe::test {
namespace {

// Every dataset and every root attribute but `created` and `command`, as text.
std::map<std::string, std::string> contents(const std::string& path) {
  H5::H5File f = h5::open_file(path);
  std::map<std::string, std::string> m;
  for (int i = 0; i < f.getNumAttrs(); ++i) {
    H5::Attribute a = f.openAttribute(static_cast<unsigned>(i));
    if (a.getName() != "created" && a.getName() != "command") m["@" + a.getName()] = h5::attr_as_text(a);
  }
  for (const char* ds : {"/knn/index", "/pairs/src", "/pairs/dst"}) {
    std::string s;
    for (auto v : h5::read<std::int64_t>(f, ds)) s += cat(v, " ");
    m[ds] = s;
  }
  for (const char* ds : {"/knn/cosine", "/pairs/cosine"}) {
    const std::vector<float> v = h5::read<float>(f, ds);
    m[ds] = std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));  // bit for bit
  }
  return m;
}

// Clustered features with exact duplicates among the targets (real ties) and near-ties.
struct Stores {
  TempDir dir;
  std::string src = dir / "syn.h5", dst = dir / "real.h5";
  Stores(std::int64_t n_src = 700, std::int64_t n_dst = 900) {
    const int d = 32;
    write_crops(src, random_unit(n_src, d, 11, 6), d, 4);
    // The same cluster centres (same seed), other points: the rows after the source's.
    std::vector<float> t = random_unit(n_src + n_dst, d, 11, 6);
    t.erase(t.begin(), t.begin() + n_src * d);
    for (std::int64_t i = 2 * n_dst / 3; i < n_dst; ++i)
      std::copy_n(t.begin() + (i % (n_dst / 3)) * d, d, t.begin() + i * d);
    write_crops(dst, t, d, 5);
  }
  MatchOptions options(const std::string& out) const {
    MatchOptions o;
    o.src = src;
    o.dst = dst;
    o.out = dir / out;
    o.k = 10;
    o.min_cosine = 0.6;
    o.options_ini = "k = 10\nmin-cosine = 0.6\n";
    return o;
  }
  // Runs every cell of an M x N grid (M or N = 0: that side unsharded); returns the parts.
  std::vector<std::string> grid(int M, int N, const std::string& tag, std::int64_t block = 65536,
                                bool center = false) const {
    std::vector<std::string> parts;
    for (int j = 0; j < std::max(M, 1); ++j)
      for (int i = 0; i < std::max(N, 1); ++i) {
        MatchOptions o = options(cat(tag, "-", j, "-", i, ".h5"));
        if (M) o.src_shard = Shard{j, M};
        if (N) o.dst_shard = Shard{i, N};
        o.block = block;
        o.center = center;
        const MatchResult r = compute_matches(o);
        EXPECT_TRUE(r.part);
        EXPECT_FALSE(r.already_complete);
        parts.push_back(o.out);
      }
    return parts;
  }
};

TEST(MatchParts, EveryGridMergesIntoExactlyTheUnshardedStore) {
  Stores s;
  for (bool center : {false, true}) {
    MatchOptions o = s.options(center ? "whole-c.h5" : "whole.h5");
    o.block = 128;  // other query blocks than the parts use
    o.center = center;
    const MatchResult whole = compute_matches(o);
    ASSERT_GT(whole.pairs, 0);
    const std::map<std::string, std::string> want = contents(o.out);
    struct Grid {
      int M, N;
      std::int64_t block;
    };
    for (const Grid& g : {Grid{2, 3, 100}, Grid{0, 4, 65536}, Grid{3, 0, 50}, Grid{1, 1, 65536}}) {
      const std::string tag = cat("g", g.M, "x", g.N, center ? "c" : "");
      std::vector<std::string> parts = s.grid(g.M, g.N, tag, g.block, center);
      std::reverse(parts.begin(), parts.end());  // any order
      const std::string out = s.dir / (tag + "-merged.h5");
      const MatchResult m = merge_match_parts(parts, out, false, "epe merge match");
      EXPECT_EQ(m.parts, static_cast<int>(parts.size()));
      EXPECT_EQ(m.pairs, whole.pairs) << tag;
      EXPECT_EQ(m.src_matched, whole.src_matched) << tag;
      EXPECT_EQ(m.dst_used, whole.dst_used) << tag;
      EXPECT_EQ(m.histogram, whole.histogram) << tag;
      EXPECT_EQ(m.zero_vectors, whole.zero_vectors) << tag;
      const std::map<std::string, std::string> got = contents(out);
      for (const auto& [key, value] : want) EXPECT_TRUE(got.count(key) && got.at(key) == value) << tag << " " << key;
      EXPECT_EQ(got.size(), want.size()) << tag;
      // The merged store is a match store like any other.
      EXPECT_EQ(MatchStore::open(out).pair_src.size(), static_cast<std::size_t>(whole.pairs));
    }
  }
}

TEST(MatchParts, TargetShardsSmallerThanKOrEmptyStillMergeExactly) {
  Stores s(40, 25);
  const MatchOptions o = s.options("whole.h5");
  compute_matches(o);
  const std::map<std::string, std::string> want = contents(o.out);
  for (int N : {4, 30}) {  // shards of 6-7 crops (< k = 10); 30 shards of 25 crops: some empty
    const std::vector<std::string> parts = s.grid(2, N, cat("n", N));
    // A part of a small target shard pads its lists with -1.
    const std::vector<std::int64_t> knn = [&] {
      H5::H5File f = h5::open_file(parts[0]);
      return h5::read<std::int64_t>(f, "/knn/index");
    }();
    EXPECT_EQ(knn[9], -1);
    const std::string out = s.dir / cat("merged", N, ".h5");
    merge_match_parts(parts, out, false, "epe merge match");
    EXPECT_EQ(contents(out), want) << N << " target shards";
  }
}

TEST(MatchParts, BadSetsOfPartsAreClearErrorsAndWriteNothing) {
  Stores s;
  const std::vector<std::string> grid = s.grid(2, 3, "a");
  const std::string out = s.dir / "merged.h5";
  auto merge_error = [&](const std::vector<std::string>& parts) {
    const std::string e = user_error_message([&] { merge_match_parts(parts, out, false, "epe merge match"); });
    EXPECT_FALSE(fs::exists(out)) << e;
    return e;
  };
  // Missing cells, all listed.
  std::string e = merge_error({grid[0], grid[2], grid[3], grid[4]});
  EXPECT_TRUE(contains(e, "missing") && contains(e, "0/2 x 1/3") && contains(e, "1/2 x 2/3")) << e;
  // A part twice.
  e = merge_error({grid[0], grid[1], grid[2], grid[3], grid[4], grid[5], grid[1]});
  EXPECT_TRUE(contains(e, "same part") && contains(e, grid[1])) << e;
  // A part of another grid.
  const std::vector<std::string> other = s.grid(1, 4, "b");
  e = merge_error({grid[0], grid[1], grid[2], grid[3], grid[4], other[0]});
  EXPECT_TRUE(contains(e, "2 x 3 grid") && contains(e, "1 x 4 grid")) << e;
  // Other options.
  MatchOptions o = s.options("opt.h5");
  o.src_shard = Shard{1, 2};
  o.dst_shard = Shard{2, 3};
  o.min_cosine = 0.7;
  o.options_ini = "k = 10\nmin-cosine = 0.7\n";
  compute_matches(o);
  e = merge_error({grid[0], grid[1], grid[2], grid[3], grid[4], o.out});
  EXPECT_TRUE(contains(e, "options") && contains(e, "min-cosine") && contains(e, o.out)) << e;
  // Other target crops.
  const std::string dst2 = s.dir / "real2.h5";
  write_crops(dst2, random_unit(900, 32, 99), 32, 5, 310);
  o = s.options("dst2.h5");
  o.dst = dst2;
  o.src_shard = Shard{1, 2};
  o.dst_shard = Shard{2, 3};
  compute_matches(o);
  e = merge_error({grid[0], grid[1], grid[2], grid[3], grid[4], o.out});
  EXPECT_TRUE(contains(e, "target crops")) << e;
  // --out among the inputs; an existing --out without --force.
  e = merge_error({grid[0], grid[1], out});
  EXPECT_TRUE(contains(e, "--out")) << e;
  write_text(out, "keep");
  EXPECT_TRUE(contains(user_error_message([&] { merge_match_parts(grid, out, false, "m"); }), "--force"));
  EXPECT_EQ(read_text(out), "keep");
  fs::remove(out);
  // A crop store whose features changed after the parts were made (same crop table).
  const std::string saved = s.dir / "real-saved.h5";
  fs::copy_file(s.dst, saved);
  write_crops(s.dst, random_unit(900, 32, 7), 32, 5);
  e = merge_error(grid);
  EXPECT_TRUE(contains(e, "has changed") && contains(e, "target")) << e;
  // ... or changed between the jobs: two parts of target shard 2/3 read different features.
  MatchOptions late = s.options("late.h5");
  late.src_shard = Shard{1, 2};
  late.dst_shard = Shard{2, 3};
  compute_matches(late);
  e = merge_error({grid[0], grid[1], grid[2], grid[3], grid[4], late.out});
  EXPECT_TRUE(contains(e, "read different features for the same shard")) << e;
  // With the original store back, the same parts merge.
  fs::copy_file(saved, s.dst, fs::copy_options::overwrite_existing);
  EXPECT_EQ(merge_match_parts(grid, out, false, "epe merge match").parts, 6);
  fs::remove(out);
  // ... or replaced by another crop table.
  write_crops(s.dst, random_unit(900, 32, 7), 32, 5, 320);
  e = merge_error(grid);
  EXPECT_TRUE(contains(e, "is not the one the parts were computed from")) << e;
  // A part is not a match store.
  EXPECT_TRUE(contains(user_error_message([&] { MatchStore::open(grid[0]); }), "match-part"));
}

TEST(MatchParts, ARerunOfACompletePartDoesNothingAndOtherFilesNeedForce) {
  Stores s;
  MatchOptions o = s.options("part.h5");
  o.src_shard = Shard{0, 2};
  o.dst_shard = Shard{1, 3};
  const MatchResult first = compute_matches(o);
  EXPECT_EQ(first.src_begin, 0);
  EXPECT_EQ(first.src_end, 350);
  EXPECT_EQ(first.dst_begin, 300);
  EXPECT_EQ(first.dst_end, 600);
  EXPECT_GT(first.memory_bound_bytes, 300 * 32 * 4);
  const auto stamp = fs::last_write_time(o.out);
  const MatchResult again = compute_matches(o);
  EXPECT_TRUE(again.already_complete);
  EXPECT_EQ(fs::last_write_time(o.out), stamp);
  // The same file is not this job's part: another cell, other options.
  MatchOptions other = o;
  other.dst_shard = Shard{2, 3};
  std::string e = user_error_message([&] { compute_matches(other); });
  EXPECT_TRUE(contains(e, "not this job's finished part") && contains(e, "target shard 1/3") && contains(e, "--force"))
      << e;
  other = o;
  other.options_ini = "k = 10\nmin-cosine = 0.7\n";
  other.min_cosine = 0.7;
  e = user_error_message([&] { compute_matches(other); });
  EXPECT_TRUE(contains(e, "options differ") && contains(e, "min-cosine")) << e;
  other.force = true;
  EXPECT_FALSE(compute_matches(other).already_complete);
  // A side split into one shard is not sharded, and its rerun is recognised too.
  MatchOptions one = s.options("one.h5");
  one.src_shard = Shard{0, 1};
  one.dst_shard = Shard{1, 2};
  EXPECT_FALSE(compute_matches(one).already_complete);
  EXPECT_TRUE(compute_matches(one).already_complete);
  // Approximate indices cannot be cut by target shard.
  other = o;
  other.index = "ivf";
  EXPECT_TRUE(contains(user_error_message([&] { compute_matches(other); }), "--dst-shard"));
}

TEST(Knn, ExactListsDoNotDependOnHowTheQueriesAreBlocked) {
  // Near-ties everywhere: clustered vectors and duplicated targets.
  const int d = 64;
  std::vector<float> t = random_unit(3000, d, 21, 4), q = random_unit(400, d, 22, 4);
  std::copy_n(t.begin(), 1000 * d, t.begin() + 2000 * d);
  auto index = make_exact_knn(t, 3000, d, "cpu");
  const KnnBlock all = index->search(q.data(), 400, 10);
  for (std::int64_t b : {1, 7, 64, 399}) {
    std::vector<std::int64_t> ix;
    std::vector<float> sc;
    for (std::int64_t i = 0; i < 400; i += b) {
      const std::int64_t n = std::min<std::int64_t>(b, 400 - i);
      const KnnBlock r = index->search(q.data() + i * d, n, 10);
      ix.insert(ix.end(), r.index.begin(), r.index.end());
      sc.insert(sc.end(), r.score.begin(), r.score.end());
    }
    EXPECT_EQ(ix, all.index) << "blocks of " << b;
    EXPECT_EQ(sc, all.score) << "blocks of " << b;
  }
  EXPECT_EQ(all.index, brute_force(t, q, d, 10));
  // Massive ties: an all-zero query scores 0 with every target, 900 copies of one target tie
  // with each other; the lists are the smallest indices, as a brute-force scan ranks them.
  std::vector<float> tied(3000 * d, 0.f), q2 = q;
  for (std::int64_t i = 0; i < 3000; ++i) std::copy_n(t.begin() + (i < 900 ? 0 : i) * d, d, tied.begin() + i * d);
  std::fill(q2.begin(), q2.begin() + d, 0.f);
  const KnnBlock r = make_exact_knn(tied, 3000, d, "cpu")->search(q2.data(), 400, 10);
  EXPECT_EQ(r.index, brute_force(tied, q2, d, 10));
  EXPECT_EQ(std::vector<std::int64_t>(r.index.begin(), r.index.begin() + 10),
            (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

}  // namespace
}  // namespace epe::test
