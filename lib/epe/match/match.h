#pragma once
// `epe match` (DESIGN §5.3) and the match store (DESIGN §4, format "match", version 1).
//
//   /knn/index    [n_src, k] int64    target crop ids, best first (-1: fewer than k found)
//   /knn/cosine   [n_src, k] float32  their cosine similarities
//   /pairs/src    [m] int32           source crop id of each kept pair (cosine >= threshold)
//   /pairs/dst    [m] int32           target crop id
//   /pairs/cosine [m] float32
//   /pairs/weight [m] float64         sampling weight, after `epe weights`
//   /density/size [s, 2] int32, /density/<i> [H, W] int32: per source frame size, the number of
//                                     kept pairs covering each pixel (after `epe weights`)
//   attributes: src, dst (crop store paths), src_sha256, dst_sha256 (of their /features),
//   src_boxes_sha256, dst_boxes_sha256 (of their crop tables),
//   n_src, n_dst, k, threshold, index, nprobe, ef_search, center, seed, weights (formula, after
//   `epe weights`).

#include <cstdint>
#include <string>
#include <vector>

namespace epe {

class Progress;
class CropStore;

inline constexpr const char* kMatchStoreFormat = "match";
inline constexpr int kMatchStoreVersion = 1;

struct MatchOptions {
  std::string src;              // source (synthetic) crop store
  std::string dst;              // target (real) crop store
  std::string out;              // match store to write
  int k = 10;                   // neighbours per source crop
  double min_cosine = 0.5;      // keep pairs with cosine >= this (= the reference's squared L2 < 1.0)
  std::string index = "exact";  // exact | ivf[:NLIST] (GEMM-scanned IVF) | FAISS factory string (IVF4096,Flat, ...)
  int nprobe = 0;               // IVF probes (0 = 32 for ivf, FAISS's default for FAISS indices)
  int ef_search = 0;            // HNSW efSearch (0 = FAISS default)
  std::int64_t train_size = 0;  // FAISS training sample (0 = automatic)
  bool center = false;          // subtract the mean feature of both sets before normalising
  std::int64_t block = 65536;   // source crops per query block
  std::string device = "cpu";   // cpu | cuda[:i] (exact backend on the GPU)
  std::uint64_t seed = 0;       // training sample
  bool force = false;
  std::string command, options_ini;
  void check() const;
};

struct MatchResult {
  std::int64_t n_src = 0, n_dst = 0, k = 0;
  std::int64_t pairs = 0;
  std::int64_t src_matched = 0;         // source crops with >= 1 kept pair
  std::int64_t dst_used = 0;            // target crops in >= 1 kept pair
  std::int64_t zero_vectors = 0;        // all-zero features (cosine 0 with everything)
  std::vector<std::int64_t> histogram;  // kNN cosines in 20 bins over [-1, 1]
  std::string index;                    // description of the search backend
  double seconds = 0, search_seconds = 0;
};

MatchResult compute_matches(const MatchOptions& options, Progress* progress = nullptr);

// Read access to a match store (validated on open).
struct MatchStore {
  std::string path;
  std::string src, dst, src_sha256, dst_sha256;
  std::string src_boxes_sha256, dst_boxes_sha256;  // empty in stores written before they were recorded
  std::int64_t n_src = 0, n_dst = 0, k = 0;
  double threshold = 0;
  std::vector<std::int32_t> pair_src, pair_dst;
  std::vector<float> pair_cosine;
  std::vector<double> weight;  // empty before `epe weights`

  static MatchStore open(const std::string& path);
  // The crop store paths resolved: as recorded, or relative to the match store's folder.
  std::string src_path() const;
  std::string dst_path() const;
  // [n_src, k] arrays.
  std::vector<std::int64_t> knn_index() const;
  std::vector<float> knn_cosine() const;
  // UserError unless the crop store(s) still have the crops this store was made from (count and
  // crop table); dst may be null.
  void check_crop_stores(const CropStore& src, const CropStore* dst) const;
};

}  // namespace epe
