#pragma once
// `epe bench match`: match + weights end to end on N x N synthetic crop features, measured in
// one run against the reference's way of doing the same work.
//
// Features: N source and N target unit vectors (d = 512) drawn around `clusters` shared random
// centres (CNN features are clustered; uniform random vectors in 512-d are the worst case for
// any approximate index), stored as crop stores with grid boxes on 526x957 frames.
// Rows:
//   reference find_knn   FAISS IndexFlatL2 over all features in memory, as find_knn.py does
//                        (features read from the stores, kNN arrays written to an .npz)
//   exact match          epe match --index exact (read, normalise, search, filter, write)
//   weights              epe weights on the exact match
//   sharded match        the exact match as a grid of grid_src x grid_dst parts run one after the
//                        other (epe match --src-shard/--dst-shard), then epe merge match; the
//                        merged store is compared with the exact one (equal lists and cosines)
//   approximate match    epe match --index ivf (or SPEC) --nprobe P; recall@k against exact on a sample
// The reference's filter.py and compute_weights.py are per-pair Python loops; their cost is
// taken from the rates measured on this machine (docs/BASELINES.md: ~3K and ~2.4K pairs/s).

#include <cstdint>
#include <string>
#include <vector>

namespace epe {

struct MatchBenchOptions {
  std::int64_t n = 100000;
  int k = 10;
  int clusters = 1000;
  std::string approx = "";  // --index of the approximate row; empty = ivf (4 sqrt(N) lists)
  int nprobe = 16;
  std::int64_t recall_sample = 2000;
  bool skip_exact = false;         // skip the exact rows (reference find_knn, exact match, weights, sharded)
  int grid_src = 2, grid_dst = 4;  // the sharded row's grid (source x target shards)
  std::string work;                // folder for stores; empty = temporary, removed after
  std::uint64_t seed = 0;
  double filter_rate = 3000;   // reference filter.py pairs/s (docs/BASELINES.md)
  double weights_rate = 2400;  // reference compute_weights.py pairs/s (docs/BASELINES.md)
  void check() const;
};

struct MatchBenchRow {
  std::string name;
  double seconds = 0;
  std::int64_t pairs = 0;
  std::int64_t peak_rss_bytes = 0;
  std::string note;
};

struct MatchBenchResult {
  std::vector<MatchBenchRow> rows;
  double recall = -1;  // recall@k of the approximate index (-1: not measured)
  // The sharded row: the largest part's search memory bound, the unsharded run's, and whether
  // the merged store's lists equal the unsharded exact store's (bit for bit).
  std::int64_t part_memory_bytes = 0, whole_memory_bytes = 0;
  bool sharded_equal = false;
  std::string approx;
};

MatchBenchResult bench_match(const MatchBenchOptions& options);

}  // namespace epe
