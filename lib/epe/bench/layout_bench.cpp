#include "epe/bench/layout_bench.h"

#include "epe/core/error.h"
#include "epe/core/scratch_dir.h"
#include "epe/core/timer.h"
#include "epe/demo/demo_data.h"
#include "epe/io/classes.h"
#include "epe/io/file_list.h"
#include "epe/io/image.h"
#include "epe/layout/layout.h"
#include "epe/runtime/runtime.h"

namespace epe {

void LayoutBenchOptions::check() const {
  EPE_CHECK(frames >= 4, "option --frames must be >= 4");
  EPE_CHECK(distinct >= 1 && distinct <= 1000, "option --distinct must be in 1..1000");
  EPE_CHECK(height >= 16 && width >= 16, "options --height/--width must be >= 16");
  parse_grid(grid, "--grid");
}

std::vector<LayoutBenchRow> bench_layout(const LayoutBenchOptions& o) {
  o.check();
  const auto [gh, gw] = parse_grid(o.grid, "--grid");
  ScratchDir work(o.work, "epe-bench-layout");
  const auto& to_uni = cityscapes_to_universal();
  std::vector<std::vector<std::string>> files;
  for (int i = 0; i < o.distinct; ++i) {
    DemoFrame f = render_demo_frame(i % 2 == 1, i, o.height, o.width, o.seed);
    cv::Mat uni(f.gt_labels.size(), CV_8UC1);
    for (int r = 0; r < uni.rows; ++r)
      for (int c = 0; c < uni.cols; ++c)
        uni.at<std::uint8_t>(r, c) = static_cast<std::uint8_t>(to_uni[f.gt_labels.at<std::uint8_t>(r, c)]);
    const std::string img = work / cat("frame", i, ".png"), lab = work / cat("labels", i, ".png");
    write_png(img, f.image);
    write_png(lab, uni);
    files.push_back({img, lab});
  }
  std::vector<LayoutBenchRow> rows;
  for (int n : {o.frames / 4, o.frames}) {
    std::vector<std::vector<std::string>> list_rows;
    for (int i = 0; i < n; ++i) list_rows.push_back(files[static_cast<std::size_t>(i % o.distinct)]);
    const std::string list_path = work / cat("list", n, ".csv");
    write_file_list(list_path, list_rows);
    const FileList list = read_image_list(list_path);
    const Timer t0;
    LayoutStats s = accumulate_layout(list, LabelKind::robust, gh, gw, o.threads > 0 ? o.threads : threads());
    LayoutBenchRow r;
    r.frames = s.frames;
    r.seconds = t0.seconds();
    r.maps_per_s = r.seconds > 0 ? double(r.frames) / r.seconds : 0.0;
    r.peak_rss_bytes = peak_rss_bytes();
    rows.push_back(r);
  }
  return rows;
}

}  // namespace epe
