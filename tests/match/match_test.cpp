#include "epe/match/match.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>

#include "epe/core/rng.h"
#include "epe/crops/crop_store.h"
#include "epe/io/file_list.h"
#include "epe/io/h5.h"
#include "epe/io/npz.h"
#include "epe/match/exchange.h"
#include "epe/match/knn.h"
#include "epe/match/match_store.h"
#include "epe/match/weights.h"
#include "match_test_util.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace epe::test {
namespace {

TEST(Match, KeepsPairsByTheThresholdAndRecordsBothStores) {
  TempDir dir;
  const int d = 16;
  std::vector<float> a = random_unit(120, d, 1), b = random_unit(90, d, 2);
  for (float& x : a) x *= 3.0f;  // not unit length: match normalises
  write_crops(dir / "a.h5", a, d);
  write_crops(dir / "b.h5", b, d);
  MatchOptions o;
  o.src = dir / "a.h5";
  o.dst = dir / "b.h5";
  o.out = dir / "m.h5";
  o.k = 4;
  o.min_cosine = 0.6;
  o.block = 50;  // several query blocks
  MatchResult r = compute_matches(o);
  MatchStore m = MatchStore::open(dir / "m.h5");
  EXPECT_EQ(m.n_src, 120);
  EXPECT_EQ(m.n_dst, 90);
  EXPECT_EQ(m.k, 4);
  EXPECT_EQ(m.src_sha256, CropStore(dir / "a.h5").features_sha256());
  EXPECT_EQ(m.dst_sha256, CropStore(dir / "b.h5").features_sha256());
  // Expected: brute force on the float16 features, normalised.
  std::vector<float> fa = CropStore(dir / "a.h5").features(0, 120), fb = CropStore(dir / "b.h5").features(0, 90);
  auto unit = [d](std::vector<float>& v) {
    for (size_t i = 0; i < v.size(); i += d) {
      double ss = 0;
      for (int j = 0; j < d; ++j) ss += static_cast<double>(v[i + j]) * v[i + j];
      for (int j = 0; j < d; ++j) v[i + j] = static_cast<float>(v[i + j] / std::sqrt(ss));
    }
  };
  unit(fa);
  unit(fb);
  EXPECT_EQ(m.knn_index(), brute_force(fb, fa, d, 4));
  std::vector<std::int64_t> knn = m.knn_index();
  std::vector<float> cos = m.knn_cosine();
  std::size_t p = 0;
  for (std::int64_t i = 0; i < 120; ++i)
    for (int j = 0; j < 4; ++j) {
      double x = 0;
      for (int e = 0; e < d; ++e) x += static_cast<double>(fa[i * d + e]) * fb[knn[i * 4 + j] * d + e];
      EXPECT_NEAR(cos[i * 4 + j], x, 1e-5);
      if (cos[i * 4 + j] >= 0.6f) {
        ASSERT_LT(p, m.pair_src.size());
        EXPECT_EQ(m.pair_src[p], i);
        EXPECT_EQ(m.pair_dst[p], knn[i * 4 + j]);
        EXPECT_EQ(m.pair_cosine[p], cos[i * 4 + j]);
        ++p;
      }
    }
  EXPECT_EQ(p, m.pair_src.size());
  EXPECT_EQ(r.pairs, static_cast<std::int64_t>(p));
  EXPECT_EQ(std::accumulate(r.histogram.begin(), r.histogram.end(), std::int64_t{0}), 480);
  EXPECT_GT(r.pairs, 0);
  EXPECT_LT(r.pairs, 480);
}

TEST(Match, CenteringSpreadsNearlyParallelFeatures) {
  TempDir dir;
  const int d = 16;
  std::vector<float> a = random_unit(60, d, 1), b = random_unit(60, d, 2);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = 10.0f + 0.5f * a[i];  // all near (10, ..., 10)
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = 10.0f + 0.5f * b[i];
  write_crops(dir / "a.h5", a, d);
  write_crops(dir / "b.h5", b, d);
  MatchOptions o;
  o.src = dir / "a.h5";
  o.dst = dir / "b.h5";
  o.out = dir / "plain.h5";
  o.k = 3;
  EXPECT_EQ(compute_matches(o).pairs, 180);  // every neighbour has cosine > 0.99
  o.out = dir / "centred.h5";
  o.center = true;
  MatchResult r = compute_matches(o);
  EXPECT_LT(r.pairs, 120);
}

TEST(Match, BadInputIsAClearErrorAndWritesNothing) {
  TempDir dir;
  write_crops(dir / "a.h5", random_unit(10, 8, 1), 8);
  write_crops(dir / "b.h5", random_unit(10, 4, 2), 4);
  write_crops(dir / "c.h5", random_unit(5, 8, 3), 8);
  MatchOptions o;
  o.src = dir / "a.h5";
  o.dst = dir / "b.h5";
  o.out = dir / "m.h5";
  EXPECT_NE(user_error_message([&] { compute_matches(o); }).find("dimensions differ"), std::string::npos);
  o.dst = dir / "c.h5";
  o.k = 6;
  EXPECT_NE(user_error_message([&] { compute_matches(o); }).find("only 5 crops"), std::string::npos);
  o.k = 2;
  o.min_cosine = 1.5;
  EXPECT_NE(user_error_message([&] { compute_matches(o); }).find("--min-cosine"), std::string::npos);
  o.min_cosine = 0.5;
  // Options that the chosen index would ignore are refused.
  o.train_size = 100;
  EXPECT_NE(user_error_message([&] { compute_matches(o); }).find("--train-size"), std::string::npos);
  o.train_size = 0;
  o.index = "ivf";
  o.ef_search = 32;
  EXPECT_NE(user_error_message([&] { compute_matches(o); }).find("--ef-search"), std::string::npos);
  o.index = "exact";
  o.ef_search = 0;
  {
    H5::H5File f = h5::create_file(dir / "x.h5");
    h5::write_store_header(f, "layout", 1, "", "");
  }
  o.dst = dir / "x.h5";
  EXPECT_NE(user_error_message([&] { compute_matches(o); }).find("'layout' store"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "m.h5"));
  o.dst = dir / "c.h5";
  compute_matches(o);
  EXPECT_NE(user_error_message([&] { compute_matches(o); }).find("--force"), std::string::npos);
  // No pair above the threshold: nothing to weight, and the store stays as it was.
  o.out = dir / "none.h5";
  o.min_cosine = 1.0;
  o.src = dir / "c.h5";
  o.dst = dir / "a.h5";
  o.k = 1;
  compute_matches(o);
  MatchStore none = MatchStore::open(dir / "none.h5");
  if (none.pair_src.empty()) {
    const std::string before = read_text(dir / "none.h5");
    EXPECT_NE(user_error_message([&] {
                compute_weights({dir / "none.h5", "", false});
              }).find("no kept pairs"),
              std::string::npos);
    EXPECT_EQ(read_text(dir / "none.h5"), before);
  } else {
    ADD_FAILURE() << "random vectors matched with cosine 1";
  }
  // A crop store rebuilt after matching (same count, other crops) is noticed by later stages.
  std::vector<CropBox> moved;
  for (int i = 0; i < 10; ++i) moved.push_back({i % 3, 1, 197, 0, 196});
  write_crops(dir / "a.h5", random_unit(10, 8, 1), 8, 3, 300, 400, &moved);
  EXPECT_NE(user_error_message([&] {
              compute_weights({dir / "m.h5", "", false});
            }).find("re-run epe match"),
            std::string::npos);
  EXPECT_NE(user_error_message([&] { export_matches_epe(dir / "m.h5", dir.path(), "", false); }).find("other crops"),
            std::string::npos);
}

// ------------------------------------------------------------------ weights

std::vector<double> naive_weights(const std::vector<SizedBox>& boxes) {
  // The reference's loops, per frame size.
  std::vector<double> w(boxes.size());
  std::map<std::pair<int, int>, std::vector<std::int64_t>> density;
  for (const auto& b : boxes) {
    auto& d = density[{b.height, b.width}];
    d.resize(static_cast<size_t>(b.height) * b.width);
    for (int r = b.r0; r < b.r1; ++r)
      for (int c = b.c0; c < b.c1; ++c) ++d[static_cast<size_t>(r) * b.width + c];
  }
  for (size_t i = 0; i < boxes.size(); ++i) {
    const auto& b = boxes[i];
    const auto& d = density[{b.height, b.width}];
    double s = 0;
    for (int r = b.r0; r < b.r1; ++r)
      for (int c = b.c0; c < b.c1; ++c) s += d[static_cast<size_t>(r) * b.width + c];
    w[i] = static_cast<double>(*std::max_element(d.begin(), d.end())) / (s / ((b.r1 - b.r0) * (b.c1 - b.c0)));
  }
  return w;
}

TEST(Weights, SummedAreaTablesEqualTheReferenceLoops) {
  Rng rng(9);
  std::vector<SizedBox> boxes;
  for (int i = 0; i < 400; ++i) {
    const bool big = rng.bernoulli(0.7);
    const int h = big ? 120 : 64, w = big ? 160 : 64;
    const int s = static_cast<int>(rng.uniform_int(8, 40));
    const int r = static_cast<int>(rng.uniform_int(h - s + 1)), c = static_cast<int>(rng.uniform_int(w - s + 1));
    boxes.push_back({h, w, r, r + s, c, c + s});
  }
  std::vector<DensityMap> dens;
  std::vector<double> fast = sampling_weights(boxes, &dens), slow = naive_weights(boxes);
  ASSERT_EQ(dens.size(), 2u);
  EXPECT_EQ(dens[0].pairs + dens[1].pairs, 400);
  for (size_t i = 0; i < boxes.size(); ++i) EXPECT_NEAR(fast[i], slow[i], 1e-9 * slow[i]) << i;
  // One box: weight 1; two disjoint boxes: 1 each; nested boxes: the inner one weighs less.
  EXPECT_EQ(sampling_weights({{10, 10, 0, 5, 0, 5}}), std::vector<double>{1.0});
  std::vector<double> nested = sampling_weights({{10, 10, 0, 10, 0, 10}, {10, 10, 0, 5, 0, 5}});
  EXPECT_DOUBLE_EQ(nested[0], 2.0 / 1.25);
  EXPECT_DOUBLE_EQ(nested[1], 1.0);
}

// Reads the fixture CSV into crop stores + a match store, as `epe match` would have written it.
void build_match_from_csv(const TempDir& dir, const std::string& csv) {
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> src_paths, dst_paths;
  std::map<std::string, int> src_img, dst_img;
  std::vector<CropBox> src_boxes, dst_boxes;
  std::map<std::vector<int>, int> src_ids;
  std::vector<std::int32_t> ps, pd;
  while (std::getline(in, line)) {
    std::vector<std::string> f = split_csv_fields(line);
    auto img = [](std::map<std::string, int>& m, std::vector<std::string>& paths, const std::string& p) {
      auto it = m.find(p);
      if (it != m.end()) return it->second;
      paths.push_back(p);
      return m[p] = static_cast<int>(paths.size()) - 1;
    };
    const int si = img(src_img, src_paths, f[0]), di = img(dst_img, dst_paths, f[5]);
    std::vector<int> key = {si, std::stoi(f[1]), std::stoi(f[2]), std::stoi(f[3]), std::stoi(f[4])};
    auto it = src_ids.find(key);
    if (it == src_ids.end()) {
      it = src_ids.emplace(key, static_cast<int>(src_boxes.size())).first;
      src_boxes.push_back({key[0], key[1], key[2], key[3], key[4]});
    }
    ps.push_back(it->second);
    pd.push_back(static_cast<std::int32_t>(dst_boxes.size()));
    dst_boxes.push_back({di, std::stoi(f[6]), std::stoi(f[7]), std::stoi(f[8]), std::stoi(f[9])});
  }
  write_crops(dir / "src.h5", std::vector<float>(src_boxes.size() * 4, 1.f), 4, static_cast<int>(src_paths.size()), 526,
              957, &src_boxes, &src_paths);
  write_crops(dir / "dst.h5", std::vector<float>(dst_boxes.size() * 4, 1.f), 4, static_cast<int>(dst_paths.size()), 526,
              957, &dst_boxes, &dst_paths);
  H5::H5File f = h5::create_file(dir / "m.h5");
  h5::write_store_header(f, kMatchStoreFormat, kMatchStoreVersion, "test", "");
  h5::set_attr(f, "src", dir / "src.h5");
  h5::set_attr(f, "dst", dir / "dst.h5");
  h5::set_attr(f, "src_sha256", "");
  h5::set_attr(f, "dst_sha256", "");
  h5::set_attr(f, "n_src", static_cast<std::int64_t>(src_boxes.size()));
  h5::set_attr(f, "n_dst", static_cast<std::int64_t>(dst_boxes.size()));
  h5::set_attr(f, "k", 1);
  h5::set_attr(f, "threshold", 0.5);
  h5::write<std::int32_t>(f, "/pairs/src", ps, {ps.size()});
  h5::write<std::int32_t>(f, "/pairs/dst", pd, {pd.size()});
  h5::write<float>(f, "/pairs/cosine", std::vector<float>(ps.size(), 0.9f), {ps.size()});
}

TEST(Weights, EqualTheReferenceScriptOnItsOwnFixture) {
  TempDir dir;
  const std::string fixtures = EPE_FIXTURES_DIR "/match";
  build_match_from_csv(dir, fixtures + "/matched_crops.csv");
  WeightsOptions o;
  o.store = dir / "m.h5";
  o.density_png = dir / "density.png";
  WeightsResult r = compute_weights(o);
  EXPECT_EQ(r.pairs, 200);
  EXPECT_EQ(r.sizes, 1);
  EXPECT_TRUE(fs::exists(dir / "density.png"));
  NpyArray ref = read_npz_array(fixtures + "/crop_weights.npz", "w");
  ASSERT_EQ(ref.shape, (std::vector<std::size_t>{200, 1}));
  std::vector<double> expected = ref.to_double();
  MatchStore m = MatchStore::open(dir / "m.h5");
  ASSERT_EQ(m.weight.size(), 200u);
  for (size_t i = 0; i < 200; ++i) EXPECT_NEAR(m.weight[i], expected[i], 1e-9 * expected[i]) << i;

  // The export gives back the reference's files.
  MatchExportResult e = export_matches_epe(dir / "m.h5", dir.path(), "", false);
  EXPECT_EQ(read_text(e.csv), read_text(fixtures + "/matched_crops.csv"));
  NpyArray w = read_npz_array(e.npz, "w");
  EXPECT_EQ(w.dtype, "<f8");
  EXPECT_EQ(w.shape, (std::vector<std::size_t>{200, 1}));
  EXPECT_EQ(w.to_double(), m.weight);

  // Running again replaces the weights; a failure leaves the store as it was.
  EXPECT_NO_THROW(compute_weights({o.store, "", false}));
  const std::string before = read_text(dir / "m.h5");
  fs::rename(dir / "src.h5", dir / "moved.h5");
  EXPECT_NE(user_error_message([&] { compute_weights({o.store, "", false}); }).find("src.h5"), std::string::npos);
  EXPECT_EQ(read_text(dir / "m.h5"), before);
}

}  // namespace
}  // namespace epe::test
