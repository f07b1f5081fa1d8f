#pragma once
// `epe baseline color-transfer` (docs/DESIGN.md §5.7): Reinhard et al. 2001 — each synthetic frame's
// per-channel mean and standard deviation in CIE Lab are matched to the real dataset's (over all
// its pixels). A baseline row for metrics tables: it changes colours, never the layout.

#include <array>
#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <string>

#include "epe/core/options.h"

namespace epe {

class Progress;

struct LabStats {
  std::array<double, 3> mean{}, std{};  // L, a, b (OpenCV float Lab: L in [0, 100])
  std::int64_t pixels = 0;
};

struct ColorTransferOptions {
  std::string list;       // synthetic (or any) file list whose frames are transformed
  std::string reference;  // real file list (or folder) giving the target statistics
  std::string out;        // folder: images/NNNNNN.png and <name>.csv
  std::string name;       // list name (default: <list stem>-color-transfer)
  int threads = 0;
  bool force = false;
  void check() const;
};

struct ColorTransferResult {
  LabStats target;
  std::int64_t frames = 0;
  std::string list;  // the written file list
  double seconds = 0;
};

// Lab statistics over every pixel of a set's frames.
LabStats lab_stats(const std::string& list_or_folder, int threads, Progress* progress = nullptr);

// One frame (CV_32FC3 RGB [0,1]) transferred to `target` (result clipped to [0, 1]).
cv::Mat reinhard_transfer(const cv::Mat& rgb, const LabStats& target);

ColorTransferResult color_transfer(const ColorTransferOptions& o, Progress* progress = nullptr);
// Binds every option of `epe baseline color-transfer` to `o`; the lines it prints when done.
void add_options(OptionSet& s, ColorTransferOptions& o);
std::string format_summary(const ColorTransferOptions& o, const ColorTransferResult& r);

}  // namespace epe
