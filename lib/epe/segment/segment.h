#pragma once
// `epe segment` (docs/DESIGN.md §5.6): robust label maps from a TorchScript segmentation model with
// MSeg's inference protocol. For each scale s: resize the frame (bilinear) so its short side is
// round(s * base_size); pad it, centred, to at least crop x crop with the mean colour (0 after
// normalisation); slide a crop x crop window with stride ceil(2/3 crop), the last window of each
// axis clamped to the edge; per window, softmax of the logits (upsampled bilinearly to the crop
// when smaller), averaged with the horizontally flipped window's when `flip`; sum the
// probabilities and divide by the per-pixel window count; cut the padding; resize to the frame
// (bilinear). The scales' probabilities are averaged and the argmax is the label.
//
// Model contract: input [N, 3, crop, crop] float RGB in 0..255 normalised by (x - mean) / std;
// output [N, C, h, w] logits, C = `classes`.

#include <cstdint>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

#include "epe/core/options.h"
#include "epe/core/shard.h"
#include "epe/io/label_ids.h"

namespace epe {

class Progress;

struct SegmentProtocol {
  int base_size = 720;                                // short side at scale 1
  int crop = 713;                                     // window side
  std::vector<double> scales{1.0};                    // multi-scale: probabilities averaged
  bool flip = false;                                  // average with the horizontally flipped window
  std::vector<double> mean{123.675, 116.28, 103.53};  // MSeg: 255 x ImageNet mean (RGB)
  std::vector<double> std{58.395, 57.12, 57.375};     // MSeg: 255 x ImageNet std
  int classes = kUniversalClasses;                    // model output channels (MSeg universal)
  int batch = 4;                                      // windows per forward pass
  std::string device = "cpu";
  void check() const;
};

// A loaded model with the protocol. Not thread-safe.
class Segmenter {
 public:
  // UserError naming the file when it is missing or not a TorchScript model.
  Segmenter(const std::string& model_path, const SegmentProtocol& protocol);
  ~Segmenter();
  // Label map CV_8UC1 (argmax; the lowest class wins ties).
  cv::Mat labels(const cv::Mat& rgb_u8);
  const std::string& provenance() const { return provenance_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string provenance_;
};

struct SegmentOptions {
  std::string list;   // file list: synthetic, real or plain image list
  std::string model;  // TorchScript model
  std::string out;    // output folder: labels/NNNNNN_<stem>.png and <list name>.csv
  SegmentProtocol protocol;
  Shard shard;          // --shard I/N: label only these rows; OUT/shards/I-of-N.done marks the shard complete
  bool resume = false;  // keep label maps already in OUT/labels
  bool force = false;   // replace an existing OUT
  std::string command, options_ini;
  void check() const;
};

struct SegmentResult {
  std::int64_t frames = 0, reused = 0;
  double seconds = 0;
  std::string list_out, labels_dir;  // list_out: "" for a shard (epe merge segment writes it)
  std::int64_t row_begin = 0, row_end = 0;
  std::string shard_marker;       // a shard's OUT/shards/I-of-N.done
  bool already_complete = false;  // a shard found its own complete marker and did nothing
};

//
// With options.shard set, N jobs share one OUT folder: each labels its rows (label files are
// named by the global row, so they never collide), checks or writes OUT/segment.ini (the same
// record for every shard), and writes OUT/shards/I-of-N.done when finished instead of the list.
// A shard whose marker is there with the same list, shard and record does nothing.
SegmentResult segment_list(const SegmentOptions& options, Progress* progress = nullptr);

// Binds the protocol's options (--base-size, --crop, ...; with `prefix`, e.g. "seg-", under
// prefixed names whose help names the `epe segment` option they mirror). Not --device.
void add_options(OptionSet& s, SegmentProtocol& p, const std::string& prefix);
// Binds every option of `epe segment` to `o`; the lines it prints when done.
void add_options(OptionSet& s, SegmentOptions& o);
std::string format_summary(const SegmentOptions& o, const SegmentResult& r);

// `epe merge segment`: checks the N shard markers (files, or OUT folders whose shards/*.done are
// taken) are one list's shards made with one model and protocol into `out`, that every label
// map exists, and writes OUT/<list name>.csv, equal to an unsharded run's list. UserError naming
// the files otherwise; nothing is written then.
struct SegmentMergeResult {
  int shards = 0;
  std::int64_t frames = 0;
  std::string list_out;
};
SegmentMergeResult merge_segment_shards(const std::vector<std::string>& shards, const std::string& out, bool force);
// The lines `epe merge segment` prints, ending in a newline.
std::string format_summary(const SegmentMergeResult& r);

}  // namespace epe
