#include "epe/bench/match_bench.h"

#include <faiss/IndexFlat.h>

#include <cmath>
#include <filesystem>

#include "epe/core/error.h"
#include "epe/core/log.h"
#include "epe/core/progress.h"
#include "epe/core/rng.h"
#include "epe/core/scratch_dir.h"
#include "epe/core/timer.h"
#include "epe/crops/crop_store.h"
#include "epe/io/npz.h"
#include "epe/match/knn.h"
#include "epe/match/match.h"
#include "epe/match/match_store.h"
#include "epe/match/weights.h"
#include "epe/runtime/runtime.h"

namespace fs = std::filesystem;

namespace epe {

void MatchBenchOptions::check() const {
  EPE_CHECK(n >= 1000, "option --n: at least 1000");
  EPE_CHECK(k >= 1 && k <= 1000, "option -k: 1..1000");
  EPE_CHECK(clusters >= 0, "option --clusters: >= 0 (0 = uniform random)");
  EPE_CHECK(nprobe >= 1, "option --nprobe: >= 1");
  EPE_CHECK(recall_sample >= 1, "option --recall-sample: >= 1");
  EPE_CHECK(grid_src >= 1 && grid_dst >= 1, "option --grid: both sides >= 1 (e.g. 2x4)");
}

namespace {

// N unit vectors around shared centres, written as a crop store with grid boxes.
void write_store(const std::string& path, std::int64_t n, const std::vector<float>& centres, int clusters,
                 std::uint64_t seed) {
  const int d = 512, H = 526, W = 957, rows = 21, cols = 48, per_frame = rows * cols;
  CropStoreMeta m;
  m.name = fs::path(path).stem().string();
  m.mode = "grid";
  m.weights = "bench: clustered random unit vectors";
  CropStoreWriter w(path, m, "epe bench match", "");
  const std::int64_t frames = (n + per_frame - 1) / per_frame;
  for (std::int64_t f = 0; f < frames; ++f) w.add_image(cat("bench/frame", f, ".png"), H, W);
  Rng rng(seed);
  const std::int64_t block = 8192;
  std::vector<float> v;
  std::vector<CropBox> boxes;
  for (std::int64_t b = 0; b < n; b += block) {
    const std::int64_t m_rows = std::min(block, n - b);
    v.assign(m_rows * d, 0.f);
    boxes.clear();
    for (std::int64_t i = 0; i < m_rows; ++i) {
      const std::int64_t id = b + i, c = clusters ? static_cast<std::int64_t>(rng.uniform_int(clusters)) : 0;
      double ss = 0;
      for (int j = 0; j < d; ++j) {
        double x = rng.normal();
        if (clusters) x = centres[c * d + j] + 0.35 * x;
        v[i * d + j] = static_cast<float>(x);
        ss += x * x;
      }
      const float inv = static_cast<float>(1.0 / std::sqrt(ss));
      for (int j = 0; j < d; ++j) v[i * d + j] *= inv;
      const int p = static_cast<int>(id % per_frame), r = 16 * (p / cols), cc = 16 * (p % cols);
      boxes.push_back({static_cast<std::int32_t>(id / per_frame), r, r + 196, cc, cc + 196});
    }
    w.add_crops(boxes.data(), v.data(), m_rows);
  }
  w.commit(frames, 0);
  w.finish();
}

}  // namespace

MatchBenchResult bench_match(const MatchBenchOptions& o) {
  o.check();
  const ScratchDir scratch(o.work, "epe-bench-match");
  const fs::path work = scratch.path();

  const int d = 512;
  Rng crng(o.seed, 0x63656e74ULL);  // "cent"
  std::vector<float> centres(static_cast<size_t>(o.clusters) * d);
  for (float& c : centres) c = static_cast<float>(crng.normal());
  const std::string src = (work / "src.h5").string(), dst = (work / "dst.h5").string();
  log_info("bench match: writing ", o.n, " + ", o.n, " features (", o.clusters, " clusters)");
  write_store(src, o.n, centres, o.clusters, derive_seed(o.seed, 1));
  write_store(dst, o.n, centres, o.clusters, derive_seed(o.seed, 2));

  MatchBenchResult res;
  auto quiet = [](auto&& fn) {
    const ScopedLogLevel level(LogLevel::error);
    fn();
  };
  // The options every match row shares.
  auto match_options = [&](const std::string& out) {
    MatchOptions m;
    m.src = src;
    m.dst = dst;
    m.out = (work / out).string();
    m.k = o.k;
    m.force = true;
    return m;
  };

  if (!o.skip_exact) {
    {  // find_knn.py: both feature sets in memory, IndexFlatL2, kNN arrays saved.
      const Timer t;
      CropStore s(src), t_store(dst);
      std::vector<float> fs_ = s.features(0, s.size()), ft = t_store.features(0, t_store.size());
      faiss::IndexFlatL2 index(d);
      index.add(t_store.size(), ft.data());
      std::vector<float> dist(static_cast<size_t>(s.size()) * o.k);
      std::vector<faiss::Index::idx_t> ind(dist.size());
      index.search(s.size(), fs_.data(), o.k, dist.data(), ind.data());
      std::vector<double> ind_d(ind.begin(), ind.end());
      write_npz(
          (work / "knn_reference.npz").string(),
          {{"ind", NpyArray::from_double(ind_d, {static_cast<size_t>(s.size()), static_cast<size_t>(o.k)})},
           {"dist", NpyArray::from_float(dist, {static_cast<size_t>(s.size()), static_cast<size_t>(o.k)}, false)}},
          false);
      res.rows.push_back({"reference find_knn (FAISS IndexFlatL2)", t.seconds(), 0, peak_rss_bytes(), "emulated"});
    }
    MatchOptions m = match_options("exact.h5");
    MatchResult mr;
    quiet([&] { mr = compute_matches(m); });
    res.rows.push_back({"epe match --index exact", mr.seconds, mr.pairs, peak_rss_bytes(),
                        cat("search ", format_duration(mr.search_seconds))});
    WeightsResult wr;
    quiet([&] { wr = compute_weights({m.out, "", false}); });
    res.rows.push_back({"epe weights", wr.seconds, wr.pairs, peak_rss_bytes(), ""});
    {  // The same exact match as a grid of parts (one after the other here; one job each on a cluster).
      std::vector<std::string> parts;
      double seconds = 0;
      for (int j = 0; j < o.grid_src; ++j)
        for (int i = 0; i < o.grid_dst; ++i) {
          MatchOptions p = match_options(cat("part-", j, "-", i, ".h5"));
          if (o.grid_src > 1) p.src_shard = Shard{j, o.grid_src};
          if (o.grid_dst > 1) p.dst_shard = Shard{i, o.grid_dst};
          if (!p.sharded()) p.dst_shard = Shard{0, 1};  // a 1 x 1 grid is still a part
          MatchResult pr;
          quiet([&] { pr = compute_matches(p); });
          seconds += pr.seconds;
          res.part_memory_bytes = std::max(res.part_memory_bytes, pr.memory_bound_bytes);
          parts.push_back(p.out);
        }
      const std::string merged = (work / "merged.h5").string();
      MatchResult gr;
      quiet([&] { gr = merge_match_parts(parts, merged, true, "epe bench match"); });
      res.whole_memory_bytes = mr.memory_bound_bytes;
      const MatchStore a = MatchStore::open(m.out), b = MatchStore::open(merged);
      res.sharded_equal = a.knn_index() == b.knn_index() && a.knn_cosine() == b.knn_cosine() &&
                          a.pair_src == b.pair_src && a.pair_dst == b.pair_dst;
      res.rows.push_back({cat("epe match, ", o.grid_src, " x ", o.grid_dst, " parts + merge"), seconds + gr.seconds,
                          gr.pairs, 0,
                          cat("merge ", format_duration(gr.seconds), "; ", res.sharded_equal ? "equal" : "NOT EQUAL",
                              " to the exact store")});
      for (const std::string& p : parts) fs::remove(p);
    }
    const double ref_fw = mr.pairs / o.filter_rate + mr.pairs / o.weights_rate;
    res.rows.push_back({"reference filter.py + compute_weights.py", ref_fw, mr.pairs, 0,
                        cat("at ", o.filter_rate, " + ", o.weights_rate, " pairs/s (docs/BASELINES.md)")});
  }

  MatchOptions a = match_options("approx.h5");
  a.index = o.approx.empty() ? "ivf" : o.approx;
  a.nprobe = parse_knn_spec(a.index).probes ? o.nprobe : 0;
  MatchResult ar;
  quiet([&] { ar = compute_matches(a); });
  res.approx = ar.index;
  res.rows.push_back({"epe match --index " + a.index, ar.seconds, ar.pairs, peak_rss_bytes(),
                      cat("search ", format_duration(ar.search_seconds))});
  WeightsResult aw;
  quiet([&] { aw = compute_weights({a.out, "", false}); });
  res.rows.push_back({"epe weights (approximate match)", aw.seconds, aw.pairs, peak_rss_bytes(), ""});

  // Recall@k of the approximate index against exact search on a sample of source crops.
  {
    MatchStore am = MatchStore::open(a.out);
    std::vector<std::int64_t> approx_knn = am.knn_index();
    CropStore s(src), t(dst);
    Rng rng(o.seed, 0x726563ULL);
    const std::int64_t ns = std::min(o.recall_sample, s.size());
    std::vector<std::int64_t> pick = rng.sample_without_replacement(s.size(), ns);
    std::vector<float> q;
    for (std::int64_t i : pick) {
      std::vector<float> row = s.features(i, 1);
      q.insert(q.end(), row.begin(), row.end());
    }
    std::vector<float> all = t.features(0, t.size());
    l2_normalize_rows(q.data(), ns, d);
    l2_normalize_rows(all.data(), t.size(), d);
    KnnBlock exact = make_exact_knn(all, t.size(), d, "cpu")->search(q.data(), ns, o.k);
    std::int64_t hit = 0;
    for (std::int64_t i = 0; i < ns; ++i)
      for (int j = 0; j < o.k; ++j) {
        const std::int64_t a_id = approx_knn[pick[i] * o.k + j];
        for (int e = 0; e < o.k; ++e) hit += exact.index[i * o.k + e] == a_id;
      }
    res.recall = static_cast<double>(hit) / (ns * o.k);
  }
  return res;
}

}  // namespace epe
