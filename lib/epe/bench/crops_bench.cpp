#include "epe/bench/crops_bench.h"

#include <torch/torch.h>

#include <filesystem>

#include "epe/core/error.h"
#include "epe/core/log.h"
#include "epe/core/rng.h"
#include "epe/core/scratch_dir.h"
#include "epe/core/timer.h"
#include "epe/crops/crops.h"
#include "epe/demo/demo_data.h"
#include "epe/io/file_list.h"
#include "epe/io/image.h"
#include "epe/nn/device.h"
#include "epe/nn/vgg16.h"
#include "epe/runtime/runtime.h"

namespace fs = std::filesystem;

namespace epe {

void CropsBenchOptions::check() const {
  EPE_CHECK(frames >= 1, "option --frames: must be >= 1");
  EPE_CHECK(height >= 196 && width >= 196, "options --height/--width: frames must be at least 196x196");
  EPE_CHECK(crops_per_image >= 1, "option --crops-per-image: must be >= 1");
}

std::vector<CropsBenchRow> bench_crops(const CropsBenchOptions& o) {
  o.check();
  const ScratchDir scratch(o.work, "epe-bench-crops");
  const fs::path work = scratch.path();
  std::error_code ec;
  fs::create_directories(work / "frames", ec);
  EPE_CHECK(!ec, "cannot create '", (work / "frames").string(), "': ", ec.message());

  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < o.frames; ++i) {
    const std::string p = (work / "frames" / cat("frame", i, ".png")).string();
    write_png(p, render_demo_frame(/*real=*/true, i, o.height, o.width, o.seed).image);
    rows.push_back({p});
  }
  const std::string list = (work / "frames.csv").string();
  write_file_list(list, rows);

  std::vector<CropsBenchRow> out;
  if (!o.skip_reference_loop) {
    // One forward pass per crop, as collect_crops.py does.
    const c10::Device device = nn::parse_device(o.device);
    nn::Vgg16Options vo;
    vo.weights = o.vgg;
    vo.seed = o.seed;
    vo.padding = nn::Padding::none;
    nn::Vgg16 net(vo);
    net.to(device, nn::parse_precision(o.precision, device));
    c10::InferenceMode guard;
    CropsBenchRow r{"reference-loop", o.frames, 0, 0, 0, 0};
    const Timer t0;
    for (int i = 0; i < o.frames; ++i) {
      cv::Mat img = read_image(rows[i][0]);
      at::Tensor x = torch::from_blob(img.data, {img.rows, img.cols, 3}, torch::kFloat).permute({2, 0, 1});
      x = nn::normalize(x.unsqueeze(0), nn::Normalization::imagenet());
      Rng rng(o.seed, static_cast<std::uint64_t>(i));
      for (int k = 0; k < o.crops_per_image; ++k) {
        const int rr = static_cast<int>(rng.uniform_int(static_cast<std::uint64_t>(img.rows - 196 + 1)));
        const int cc = static_cast<int>(rng.uniform_int(static_cast<std::uint64_t>(img.cols - 196 + 1)));
        at::Tensor f = net.forward(x.slice(2, rr, rr + 196).slice(3, cc, cc + 196).to(device), 12).cpu();
        EPE_ASSERT(f.numel() == 512, "reference-loop: unexpected feature size");
        ++r.crops;
      }
    }
    r.seconds = t0.seconds();
    r.crops_per_s = r.crops / r.seconds;
    r.peak_rss_bytes = peak_rss_bytes();
    out.push_back(r);
  }
  for (const CropMode mode : {CropMode::random, CropMode::grid}) {
    CropsOptions c;
    c.list = list;
    c.out = (work / cat("crops_", choice_name(crop_modes(), mode), ".h5")).string();
    c.mode = mode;
    c.crops_per_image = o.crops_per_image;
    c.vgg = o.vgg;
    c.seed = o.seed;
    c.device = o.device;
    c.precision = o.precision;
    c.force = true;
    CropsResult res;
    {
      const ScopedLogLevel quiet(LogLevel::error);  // the random-init warning once is enough
      res = compute_crops(c);
    }
    CropsBenchRow r{choice_name(crop_modes(), mode), res.frames,      res.crops, res.seconds,
                    res.crops / res.seconds,         peak_rss_bytes()};
    out.push_back(r);
  }
  return out;
}

}  // namespace epe
