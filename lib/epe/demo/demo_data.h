#pragma once
// `epe demo-data`: two small procedural street-scene datasets, deterministic by seed
// (docs/DESIGN.md §3). The "synthetic" set is flat-shaded from G-buffers (untextured albedo unless
// synthetic_texture) and has exact labels; the "real" set gets photographic degradations
// (texture, grading, blur, vignetting, noise). Their layouts differ on purpose; the
// differences are listed in data/README.md and in SceneStyle below.

#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

#include "epe/core/options.h"
#include "epe/io/materials.h"

namespace epe {

class Progress;

struct DemoOptions {
  std::string out;         // output folder (created; must not exist unless force)
  int images = 60;         // frames per set
  int height = 526;        // frame height in pixels
  int width = 957;         // frame width in pixels
  std::uint64_t seed = 0;  // same seed => byte-identical files
  // Texture the synthetic set's albedo with the real set's texture statistics (the real frames
  // stay byte-identical). Off by default: the demo's figures are of untextured synthetic frames.
  bool synthetic_texture = false;
  bool force = false;  // replace an existing output folder
  int threads = 0;     // 0 = all cores
  std::string record;  // resolved options (INI) saved as <out>/options.ini; "" = none
  void check() const;
};
// Binds every option of `epe demo-data` to `o`.
void add_options(OptionSet& s, DemoOptions& o);

// Cityscapes label ids used by the demo scenes (GT labels of the synthetic set).
namespace cs {
constexpr int road = 7, sidewalk = 8, building = 11, pole = 17, traffic_sign = 20, vegetation = 21, terrain = 22,
              sky = 23, person = 24, car = 26;
}

// The material of each Cityscapes id (docs/DESIGN.md §3) that the `material` G-buffer channel
// stores: the shipped default table (io/materials.h), read once; `epe train` reads the same file.
const MaterialTable& demo_material_table();

// One rendered frame, before it is written: what the renderer knows exactly.
struct DemoFrame {
  cv::Mat image;      // CV_32FC3 RGB [0,1]
  cv::Mat gt_labels;  // CV_8UC1 Cityscapes ids
  cv::Mat gbuffers;   // CV_32FC(8): depth, normal.xyz, albedo.rgb, material
};

// Renders frame `index` of the synthetic (`real` = false) or real set.
DemoFrame render_demo_frame(bool real, int index, int height, int width, std::uint64_t seed,
                            bool synthetic_texture = false);

// The G-buffer channel names of the demo frames.
const std::vector<std::string>& demo_gbuffer_channels();

struct DemoResult {
  std::string synthetic_list, real_list;  // the two file lists
  int images_per_set = 0;
  double seconds = 0;
};

// Writes <out>/synthetic/{images,robust_labels,gbuffers,gt_labels}/NNNN.*, <out>/real/
// {images,robust_labels}/NNNN.png, the lists <out>/synthetic.csv, <out>/real.csv, and
// <out>/options.ini (opt.record) when given.
// The folder appears under its final name only when complete.
DemoResult make_demo_data(const DemoOptions& opt, Progress* progress = nullptr);

}  // namespace epe
