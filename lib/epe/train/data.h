#pragma once
// Training data of the enhancer (docs/DESIGN.md §5.8): pairs of a synthetic crop (image, G-buffers,
// material class maps from its GT labels, robust labels) and a real crop (image, robust labels),
// drawn
//   matched      from a match store's pairs, with its sampling weights (uniformly before
//                `epe weights`) — the crops the store was built from
//   independent  a random crop of a random frame on each side
// Batch `step` is a pure function of (seed, step, rollbacks), so a resumed run sees the same
// batches as an uninterrupted one. Frames are decoded on a thread pool.

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

#include "epe/core/options.h"
#include "epe/io/file_list.h"
#include "epe/io/label_ids.h"
#include "epe/io/materials.h"

namespace epe {

// How training pairs are drawn (see above).
enum class PairSampling { matched, independent };
const Choices<PairSampling>& pair_samplings();  // "matched", "independent"

struct TrainDataOptions {
  std::string synthetic;                          // synthetic list: image, robust labels, G-buffers, GT labels
  std::string real;                               // real list: image, robust labels
  std::string matches;                            // match store of synthetic against real crops (matched sampling)
  PairSampling sampling = PairSampling::matched;  // matched | independent
  int crop = 196;                                 // crop side of independent sampling
  int resize = 0;                                 // > 0: both crops resized to resize x resize (cheaper CPU runs)
  // > 0: a window x window part of both crops at their native scale, at one random position
  // relative to each crop (the same fraction of the free rows and columns on both sides, so a
  // matched pair keeps its alignment); the cheaper alternative to --resize that keeps textures at
  // the scale `epe enhance` sees them. 0 = the whole crop (the reference).
  int window = 0;
  std::string materials;  // GT id -> material table; default <data>/materials/cityscapes-34_to_material.tsv
  int label_classes =
      kUniversalClasses;  // robust label ids 0..label_classes-1 (the discriminator's embedding), 255 unlabeled
  int batch = 1;
  int threads = 0;
  std::uint64_t seed = 0;
  void check() const;
};

struct TrainBatch {
  at::Tensor syn_image;    // [B, 3, h, w] in [0, 1]
  at::Tensor gbuffers;     // [B, G, h, w]
  at::Tensor classes;      // [B, K, h, w] one-hot material maps
  at::Tensor syn_labels;   // [B, h, w] int64 robust labels
  at::Tensor real_image;   // [B, 3, h, w]
  at::Tensor real_labels;  // [B, h, w] int64
};

// GT label map (CV_8UC1) -> one-hot material maps [K, h, w] float32 (K = the table's materials).
at::Tensor material_one_hot(const MaterialTable& table, const cv::Mat& gt);

class TrainData {
 public:
  // Checks everything a training run needs before it starts: lists, match store and its crop
  // stores (frames must be rows of the lists), G-buffer channel count == gbuffer_channels (a
  // clear error naming the file otherwise), material count == num_classes.
  TrainData(const TrainDataOptions& o, int gbuffer_channels, int num_classes);
  ~TrainData();
  TrainBatch get(std::int64_t step, std::int64_t rollbacks = 0, int rank = 0) const;  // rank: --distributed
  // A whole synthetic frame (row `row` of the synthetic list): syn_image [1, 3, H, W], gbuffers
  // [1, G, H, W], classes [1, K, H, W] (the other fields undefined). For sample pictures.
  TrainBatch frame(std::size_t row) const;
  std::size_t synthetic_frames() const;
  std::string summary() const;
  std::int64_t pairs() const;  // match-store pairs (0 for independent sampling)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace epe
