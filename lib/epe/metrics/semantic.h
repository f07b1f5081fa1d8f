#pragma once
// Semantic consistency (`epe metrics --metrics semantic`): did enhancing a frame change what a
// segmenter sees in it (FeaMGAN's and HyPER-GAN's "did the enhancer hallucinate trees")?
//
// A segmenter (a TorchScript model with `epe segment`'s contract and protocol, segment.h) labels
// every frame of the source set (the frames the fake sets were made from; row k of a fake set is
// the enhanced row k of the source) and of each fake set. Per fake set, a confusion matrix over
// all pixels (MSeg universal ids; pixels the reference labels 255 are left out) gives
//   IoU_c = TP_c / (TP_c + FP_c + FN_c)  for every class c in the reference or the prediction,
//   mIoU  = mean of IoU_c over those classes,   pixel accuracy = sum_c TP_c / labelled pixels,
// against the source's labels (reference = segmentation of the input) and, where the fake list
// has GT labels, against them mapped to universal ids by `gt_map` (default
// cityscapes-34_to_universal; ids the table does not list are left out). A set against itself has
// mIoU 1 and accuracy 1 exactly. Label maps are cached in `cache` (HDF5 store "semantic-labels"
// keyed by the set's checksum, the model's SHA-256 and the protocol).

#include <cstdint>
#include <string>
#include <vector>

#include "epe/metrics/features.h"
#include "epe/segment/segment.h"

namespace epe {

class Progress;

inline constexpr const char* kSemanticStoreFormat = "semantic-labels";
inline constexpr int kSemanticStoreVersion = 1;

struct SemanticOptions {
  std::string model;                                  // TorchScript segmenter (required)
  SegmentProtocol protocol;                           // epe segment's options
  std::string source;                                 // list/folder of the input frames ("" = the first fake set)
  std::string gt_map = "cityscapes-34_to_universal";  // GT ids -> universal table, or "none"
  void check() const;
};

// IoU bookkeeping over label maps of universal ids (255 in the reference = not counted).
class Confusion {
 public:
  Confusion();
  void add(const cv::Mat& reference, const cv::Mat& prediction);  // CV_8UC1, same size
  struct Class {
    int id = 0;
    std::string name;
    double iou = 0;
    std::int64_t reference_pixels = 0, predicted_pixels = 0;
  };
  struct Score {
    double miou = 0, pixel_accuracy = 0;
    std::int64_t pixels = 0;     // labelled reference pixels
    std::vector<Class> classes;  // classes in the reference or the prediction, by id
  };
  Score score() const;

 private:
  std::vector<std::int64_t> m_;  // [256 reference][256 predicted]
};

// Labels of every frame of `set` (cached when cache_dir is not empty; `hit` says so).
std::vector<cv::Mat> semantic_labels(Segmenter& seg, const SegmentProtocol& protocol, const ImageSet& set,
                                     const std::string& cache_dir, bool* hit = nullptr, Progress* progress = nullptr);

struct SemanticResult {
  Confusion::Score vs_input;
  bool has_gt = false;
  Confusion::Score vs_gt;
};

// Scores fake labels against source labels (row by row; same frame sizes) and, when the fake
// list has GT labels and gt_map is not "none", against those.
SemanticResult semantic_consistency(const std::vector<cv::Mat>& source, const std::vector<cv::Mat>& fake,
                                    const ImageSet& fake_set, const std::string& gt_map);

}  // namespace epe
