#pragma once
// `epe bench crops`: crops per second of the crop stage on demo frames, measured in one run:
//   reference-loop  the reference's collect_crops.py loop emulated with our network: per frame,
//                   `crops_per_image` random crops, one forward pass per crop
//   random          `epe crops --mode random` (15 per frame, batched, decoding ahead)
//   grid            `epe crops --mode grid` (one pass per frame, every 16-pixel position)
// Each row also reports the process's peak resident memory after it ran (monotone: rows
// run in the order above).

#include <cstdint>
#include <string>
#include <vector>

namespace epe {

struct CropsBenchOptions {
  int frames = 8;  // demo frames rendered and embedded
  int height = 526;
  int width = 957;
  int crops_per_image = 15;  // reference-loop and random rows
  std::string vgg;           // weights; empty = random init (speed does not depend on the values)
  std::string device = "cpu";
  std::string precision = "float32";
  std::uint64_t seed = 0;
  bool skip_reference_loop = false;    // skip the (slow) reference-loop row
  double reference_crops_per_s = 6.5;  // the reference's own figure here (docs/BASELINES.md); 0 = none
  std::string work;                    // folder for frames and stores; empty = a temporary folder, removed after
  void check() const;
};

struct CropsBenchRow {
  std::string name;
  std::int64_t frames = 0, crops = 0;
  double seconds = 0;
  double crops_per_s = 0;
  std::int64_t peak_rss_bytes = 0;
};

std::vector<CropsBenchRow> bench_crops(const CropsBenchOptions& options);

}  // namespace epe
