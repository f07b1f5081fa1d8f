#pragma once
// The match store (docs/DESIGN.md §4, format "match", version 1), written by `epe match` and
// `epe merge match`, completed by `epe weights`, read by layout, show-matches, export and train.
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

class CropStore;

inline constexpr const char* kMatchStoreFormat = "match";
inline constexpr int kMatchStoreVersion = 1;

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
