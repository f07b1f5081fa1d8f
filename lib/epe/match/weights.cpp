#include "epe/match/weights.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <opencv2/imgproc.hpp>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/timer.h"
#include "epe/crops/crop_store.h"
#include "epe/io/h5.h"
#include "epe/io/image.h"
#include "epe/match/match_store.h"

namespace fs = std::filesystem;

namespace epe {

std::vector<double> sampling_weights(const std::vector<SizedBox>& boxes, std::vector<DensityMap>* densities) {
  std::map<std::pair<int, int>, std::vector<std::size_t>> groups;
  std::vector<std::pair<int, int>> order;
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    const SizedBox& b = boxes[i];
    EPE_ASSERT(0 <= b.r0 && b.r0 < b.r1 && b.r1 <= b.height && 0 <= b.c0 && b.c0 < b.c1 && b.c1 <= b.width,
               "sampling_weights: box outside its frame");
    auto key = std::make_pair(b.height, b.width);
    auto it = groups.find(key);
    if (it == groups.end()) {
      order.push_back(key);
      it = groups.emplace(key, std::vector<std::size_t>{}).first;
    }
    it->second.push_back(i);
  }
  std::vector<double> w(boxes.size());
  for (const auto& key : order) {
    const auto& idx = groups[key];
    const int H = key.first, W = key.second;
    // Difference array -> density.
    std::vector<std::int64_t> diff(static_cast<std::size_t>(H + 1) * (W + 1), 0);
    auto at = [W](int r, int c) { return static_cast<std::size_t>(r) * (W + 1) + c; };
    for (std::size_t i : idx) {
      const SizedBox& b = boxes[i];
      ++diff[at(b.r0, b.c0)];
      --diff[at(b.r0, b.c1)];
      --diff[at(b.r1, b.c0)];
      ++diff[at(b.r1, b.c1)];
    }
    for (int r = 0; r <= H; ++r)
      for (int c = 1; c <= W; ++c) diff[at(r, c)] += diff[at(r, c - 1)];
    for (int r = 1; r <= H; ++r)
      for (int c = 0; c <= W; ++c) diff[at(r, c)] += diff[at(r - 1, c)];
    // diff[r][c] (r < H, c < W) is now the density; summed-area table over it.
    std::vector<std::int64_t> sat(static_cast<std::size_t>(H + 1) * (W + 1), 0);
    std::int64_t max_d = 0;
    for (int r = 0; r < H; ++r)
      for (int c = 0; c < W; ++c) {
        const std::int64_t v = diff[at(r, c)];
        max_d = std::max(max_d, v);
        sat[at(r + 1, c + 1)] = v + sat[at(r, c + 1)] + sat[at(r + 1, c)] - sat[at(r, c)];
      }
    for (std::size_t i : idx) {
      const SizedBox& b = boxes[i];
      const std::int64_t sum = sat[at(b.r1, b.c1)] - sat[at(b.r0, b.c1)] - sat[at(b.r1, b.c0)] + sat[at(b.r0, b.c0)];
      const double area = static_cast<double>(b.r1 - b.r0) * (b.c1 - b.c0);
      const double mean = static_cast<double>(sum) / area;  // as np.mean over the box
      w[i] = static_cast<double>(max_d) / mean;
    }
    if (densities) {
      DensityMap m;
      m.height = H;
      m.width = W;
      m.pairs = static_cast<std::int64_t>(idx.size());
      m.count.resize(static_cast<std::size_t>(H) * W);
      for (int r = 0; r < H; ++r)
        for (int c = 0; c < W; ++c)
          m.count[static_cast<std::size_t>(r) * W + c] = static_cast<std::int32_t>(diff[at(r, c)]);
      densities->push_back(std::move(m));
    }
  }
  return w;
}

namespace {

void write_density_png(const DensityMap& m, const std::string& path) {
  cv::Mat d(m.height, m.width, CV_32S, const_cast<std::int32_t*>(m.count.data()));
  double mx = 0;
  cv::minMaxLoc(d, nullptr, &mx);
  cv::Mat u8;
  d.convertTo(u8, CV_8U, mx > 0 ? 255.0 / mx : 0.0);
  cv::Mat bgr, rgb;
  cv::applyColorMap(u8, bgr, cv::COLORMAP_INFERNO);
  // Colour scale along the bottom: 0 .. max pairs.
  const int bar_h = 28;
  cv::Mat canvas(m.height + bar_h, m.width, CV_8UC3, cv::Scalar(255, 255, 255));
  bgr.copyTo(canvas(cv::Rect(0, 0, m.width, m.height)));
  cv::Mat ramp(10, m.width, CV_8U);
  for (int c = 0; c < m.width; ++c) ramp.col(c).setTo(static_cast<int>(255.0 * c / std::max(1, m.width - 1)));
  cv::Mat ramp_bgr;
  cv::applyColorMap(ramp, ramp_bgr, cv::COLORMAP_INFERNO);
  ramp_bgr.copyTo(canvas(cv::Rect(0, m.height + 2, m.width, 10)));
  cv::putText(canvas, "0", {2, m.height + 25}, cv::FONT_HERSHEY_SIMPLEX, 0.4, {0, 0, 0});
  const std::string label = cat("pairs covering a pixel (max ", static_cast<long long>(mx), ", ", m.pairs, " pairs)");
  cv::putText(canvas, label, {m.width / 2 - 130, m.height + 25}, cv::FONT_HERSHEY_SIMPLEX, 0.4, {0, 0, 0});
  cv::cvtColor(canvas, rgb, cv::COLOR_BGR2RGB);
  write_png(path, rgb);
}

}  // namespace

WeightsResult compute_weights(const WeightsOptions& o) {
  const Timer t0;
  if (!o.density_png.empty()) check_output_path(o.density_png, o.force, "--density-png");
  MatchStore m = MatchStore::open(o.store);
  CropStore src(m.src_path());
  m.check_crop_stores(src, nullptr);
  EPE_CHECK(!m.pair_src.empty(), "'", o.store, "' has no kept pairs (threshold ", m.threshold,
            "); nothing to weight: re-run epe match with a lower --min-cosine or more crops");
  std::vector<SizedBox> boxes(m.pair_src.size());
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    const CropBox& b = src.boxes()[m.pair_src[i]];
    const auto& s = src.image_sizes()[b.image];
    boxes[i] = {s[0], s[1], b.r0, b.r1, b.c0, b.c1};
  }
  std::vector<DensityMap> dens;
  std::vector<double> w = sampling_weights(boxes, &dens);

  WeightsResult r;
  r.pairs = static_cast<std::int64_t>(w.size());
  r.sizes = static_cast<int>(dens.size());
  if (!w.empty()) {
    r.min_weight = *std::min_element(w.begin(), w.end());
    r.max_weight = *std::max_element(w.begin(), w.end());
    double s = 0;
    for (double x : w) s += x;
    r.mean_weight = s / w.size();
  }
  for (const auto& d : dens)
    for (std::int32_t v : d.count) r.max_density = std::max(r.max_density, v);

  // A copy of the store with the weights, renamed over the original.
  AtomicFile out(o.store);
  fs::copy_file(o.store, out.temp_path(), fs::copy_options::overwrite_existing);
  {
    H5::H5File f = h5::open_file(out.temp_path(), /*writable=*/true);
    if (h5::exists(f, "/pairs/weight")) H5Ldelete(f.getId(), "/pairs/weight", H5P_DEFAULT);
    if (h5::exists(f, "/density")) H5Ldelete(f.getId(), "/density", H5P_DEFAULT);
    h5::WriteOptions chunked;
    chunked.compress = 1;
    h5::write<double>(f, "/pairs/weight", w, {w.size()});
    std::vector<std::int32_t> sizes;
    for (std::size_t i = 0; i < dens.size(); ++i) {
      sizes.push_back(dens[i].height);
      sizes.push_back(dens[i].width);
      h5::write<std::int32_t>(f, cat("/density/", i), dens[i].count,
                              {static_cast<hsize_t>(dens[i].height), static_cast<hsize_t>(dens[i].width)}, chunked);
    }
    h5::write<std::int32_t>(f, "/density/size", sizes, {dens.size(), 2});
    h5::set_attr(f, "weights", "max(d) / mean(d over the box), d = kept pairs covering each pixel, per frame size");
    f.close();
  }
  out.commit();

  if (!o.density_png.empty() && !dens.empty()) {
    const auto& biggest = *std::max_element(dens.begin(), dens.end(),
                                            [](const DensityMap& a, const DensityMap& b) { return a.pairs < b.pairs; });
    write_density_png(biggest, o.density_png);
  }
  r.seconds = t0.seconds();
  return r;
}

}  // namespace epe
