#include "epe/match/show.h"

#include <map>
#include <opencv2/imgproc.hpp>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/rng.h"
#include "epe/crops/crop_store.h"
#include "epe/io/image.h"
#include "epe/match/match_store.h"

namespace epe {

void ShowMatchesOptions::check() const {
  EPE_CHECK(bands.size() >= 2, "option --bands: give at least two edges (e.g. 0.5,1.0)");
  for (size_t i = 1; i < bands.size(); ++i)
    EPE_CHECK(bands[i] > bands[i - 1], "option --bands: edges must increase (", bands[i - 1], " then ", bands[i], ")");
  EPE_CHECK(per_band >= 1 && per_band <= 64, "option --per-band: 1..64");
  EPE_CHECK(thumb >= 16 && thumb <= 512, "option --thumb: 16..512 pixels");
}

ShowMatchesResult show_matches(const ShowMatchesOptions& o) {
  o.check();
  check_output_path(o.out, o.force);
  MatchStore m = MatchStore::open(o.store);
  CropStore src(m.src_path()), dst(m.dst_path());
  m.check_crop_stores(src, &dst);
  const int nb = static_cast<int>(o.bands.size()) - 1;
  std::vector<std::vector<std::int64_t>> in_band(nb);
  for (std::size_t i = 0; i < m.pair_cosine.size(); ++i) {
    const double c = m.pair_cosine[i];
    for (int b = 0; b < nb; ++b) {
      const bool last = b == nb - 1;
      if (c >= o.bands[b] && (c < o.bands[b + 1] || (last && c <= o.bands[b + 1]))) {
        in_band[b].push_back(static_cast<std::int64_t>(i));
        break;
      }
    }
  }
  ShowMatchesResult r;
  const int t = o.thumb, gap = 4, label_w = 150, pair_w = 2 * t + gap + 12;
  cv::Mat canvas(nb * (t + gap) + gap, label_w + o.per_band * pair_w, CV_8UC3, cv::Scalar(255, 255, 255));
  std::map<std::string, cv::Mat> frames;
  auto crop = [&](const CropStore& s, std::int32_t id) {
    const CropBox& b = s.boxes()[id];
    const std::string& p = s.image_paths()[b.image];
    auto it = frames.find(p);
    if (it == frames.end()) {
      if (frames.size() > 64) frames.clear();
      it = frames.emplace(p, read_image_u8(p)).first;
    }
    const cv::Mat& f = it->second;
    EPE_CHECK(b.r1 <= f.rows && b.c1 <= f.cols, "frame '", p, "' is smaller than its crop store says");
    cv::Mat th;
    cv::resize(f(cv::Rect(b.c0, b.r0, b.c1 - b.c0, b.r1 - b.r0)), th, {t, t}, 0, 0, cv::INTER_AREA);
    return th;
  };
  for (int b = nb - 1, row = 0; b >= 0; --b, ++row) {  // best band on top
    r.pairs_in_band.insert(r.pairs_in_band.begin(), static_cast<std::int64_t>(in_band[b].size()));
    const int y = gap + row * (t + gap);
    char label[64];
    std::snprintf(label, sizeof label, "%.2f-%.2f", o.bands[b], o.bands[b + 1]);
    cv::putText(canvas, label, {6, y + t / 2}, cv::FONT_HERSHEY_SIMPLEX, 0.55, {0, 0, 0}, 1, cv::LINE_AA);
    cv::putText(canvas, cat(in_band[b].size(), " pairs"), {6, y + t / 2 + 20}, cv::FONT_HERSHEY_SIMPLEX, 0.45,
                {80, 80, 80}, 1, cv::LINE_AA);
    Rng rng(o.seed, static_cast<std::uint64_t>(b));
    const std::int64_t n = static_cast<std::int64_t>(in_band[b].size());
    int col = 0;
    for (std::int64_t j : rng.sample_without_replacement(n, std::min<std::int64_t>(n, o.per_band))) {
      const std::int64_t pair = in_band[b][j];
      const int x = label_w + col * pair_w;
      crop(src, m.pair_src[pair]).copyTo(canvas(cv::Rect(x, y, t, t)));
      crop(dst, m.pair_dst[pair]).copyTo(canvas(cv::Rect(x + t + gap, y, t, t)));
      char c[16];
      std::snprintf(c, sizeof c, "%.3f", m.pair_cosine[pair]);
      cv::putText(canvas, c, {x + 3, y + 14}, cv::FONT_HERSHEY_SIMPLEX, 0.4, {255, 255, 0}, 1, cv::LINE_AA);
      ++col;
      ++r.shown;
    }
  }
  write_png(o.out, canvas);
  return r;
}

}  // namespace epe
