// Sampling analysis of `epe layout --matches` (docs/DESIGN.md §5.5): label agreement of crop pairs
// drawn independently, from the match store uniformly, and with its sampling weights.

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <unordered_map>

#include "epe/core/error.h"
#include "epe/core/progress.h"
#include "epe/core/rng.h"
#include "epe/core/thread_pool.h"
#include "epe/crops/crop_store.h"
#include "epe/io/file_list.h"
#include "epe/layout/layout.h"
#include "epe/match/match_store.h"

namespace epe {

namespace {

// A crop's labels on grid x grid positions (nearest: the pixel under each position's centre).
void crop_grid(const cv::Mat& labels, const CropBox& b, int grid, std::uint8_t* out) {
  const int h = b.r1 - b.r0, w = b.c1 - b.c0;
  for (int i = 0; i < grid; ++i) {
    const std::uint8_t* row =
        labels.ptr<std::uint8_t>(b.r0 + static_cast<int>((2 * std::int64_t(i) + 1) * h / (2 * grid)));
    for (int j = 0; j < grid; ++j)
      out[i * grid + j] = row[b.c0 + static_cast<int>((2 * std::int64_t(j) + 1) * w / (2 * grid))];
  }
}

}  // namespace

std::vector<SamplingRow> sampling_analysis(const SamplingOptions& o, const FileList& src_list, const FileList& dst_list,
                                           LabelKind kind, Progress* progress) {
  EPE_CHECK(o.pairs > 0, "option --pairs must be > 0");
  EPE_CHECK(o.grid >= 1 && o.grid <= 256, "option --sample-grid must be in 1..256");
  const MatchStore ms = MatchStore::open(o.matches);
  const CropStore src(ms.src_path()), dst(ms.dst_path());
  ms.check_crop_stores(src, &dst);

  std::vector<std::int32_t> src_rows, dst_rows;
  std::string miss = rows_of_frames(src, src_list, &src_rows);
  if (!miss.empty()) throw UserError(cat("--matches: ", miss, " (the first --list must be the match store's source)"));
  miss = rows_of_frames(dst, dst_list, &dst_rows);
  if (!miss.empty()) throw UserError(cat("--matches: ", miss, " (the second --list must be the match store's target)"));

  // Draw the pairs of every strategy.
  struct Draw {
    SamplingRow row;
    std::vector<std::pair<std::int32_t, std::int32_t>> pairs;  // (src crop, dst crop)
  };
  std::vector<Draw> draws(3);
  draws[0].row.strategy = "random";
  draws[1].row.strategy = "matched";
  draws[2].row.strategy = "weighted";
  const std::int64_t m = static_cast<std::int64_t>(ms.pair_src.size());
  {
    Rng rng(o.seed, 1);
    draws[0].row.available = src.size() > 0 && dst.size() > 0;
    if (!draws[0].row.available) draws[0].row.note = "a crop store is empty";
    for (std::int64_t i = 0; draws[0].row.available && i < o.pairs; ++i) {
      const auto s = static_cast<std::int32_t>(rng.uniform_int(static_cast<std::uint64_t>(src.size())));
      const auto d = static_cast<std::int32_t>(rng.uniform_int(static_cast<std::uint64_t>(dst.size())));
      draws[0].pairs.emplace_back(s, d);
    }
  }
  {
    Rng rng(o.seed, 2);
    draws[1].row.available = m > 0;
    if (!m) draws[1].row.note = "the match store has no pairs";
    for (std::int64_t i = 0; m && i < o.pairs; ++i) {
      const auto k = static_cast<std::size_t>(rng.uniform_int(static_cast<std::uint64_t>(m)));
      draws[1].pairs.emplace_back(ms.pair_src[k], ms.pair_dst[k]);
    }
  }
  {
    Rng rng(o.seed, 3);
    draws[2].row.available = m > 0 && !ms.weight.empty();
    if (!m)
      draws[2].row.note = "the match store has no pairs";
    else if (ms.weight.empty())
      draws[2].row.note = "no sampling weights (run `epe weights` on the match store)";
    if (draws[2].row.available) {
      std::vector<double> cum(ms.weight.size());
      double total = 0;
      for (std::size_t k = 0; k < cum.size(); ++k) cum[k] = total += std::max(0.0, ms.weight[k]);
      for (std::int64_t i = 0; total > 0 && i < o.pairs; ++i) {
        const double u = rng.uniform() * total;
        std::size_t k = static_cast<std::size_t>(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin());
        k = std::min(k, cum.size() - 1);
        draws[2].pairs.emplace_back(ms.pair_src[k], ms.pair_dst[k]);
      }
      if (total <= 0) {
        draws[2].row.available = false;
        draws[2].row.note = "every sampling weight is 0";
      }
    }
  }

  // The crops needed, grouped by frame, so each label map is decoded once.
  const int g2 = o.grid * o.grid;
  std::map<std::int32_t, std::size_t> slot[2];  // crop id -> row in grids[side]
  for (const Draw& d : draws)
    for (const auto& p : d.pairs) {
      slot[0].emplace(p.first, 0);
      slot[1].emplace(p.second, 0);
    }
  std::vector<std::uint8_t> grids[2];
  struct FrameJob {
    int side;
    std::int32_t frame;
    std::vector<std::pair<std::int32_t, std::size_t>> crops;  // crop id, slot
  };
  std::vector<FrameJob> jobs;
  for (int side = 0; side < 2; ++side) {
    const CropStore& store = side == 0 ? src : dst;
    std::map<std::int32_t, std::size_t> job_of_frame;
    std::size_t k = 0;
    for (auto& [crop, s] : slot[side]) {
      s = k++;
      const std::int32_t frame = store.boxes()[static_cast<std::size_t>(crop)].image;
      auto it = job_of_frame.find(frame);
      if (it == job_of_frame.end()) {
        it = job_of_frame.emplace(frame, jobs.size()).first;
        jobs.push_back({side, frame, {}});
      }
      jobs[it->second].crops.emplace_back(crop, s);
    }
    grids[side].assign(k * g2, 255);
  }
  if (progress) progress->set_total(static_cast<std::int64_t>(jobs.size()));
  ThreadPool pool(o.threads > 0 ? std::size_t(o.threads) : 0);
  pool.parallel_for(jobs.size(), [&](std::size_t j) {
    const FrameJob& job = jobs[j];
    const CropStore& store = job.side == 0 ? src : dst;
    const FileList& list = job.side == 0 ? src_list : dst_list;
    const ListRow& row =
        list.rows[static_cast<std::size_t>((job.side == 0 ? src_rows : dst_rows)[static_cast<std::size_t>(job.frame)])];
    const cv::Mat labels = read_row_labels(list, row, kind);
    for (const auto& [crop, s] : job.crops) {
      const CropBox& b = store.boxes()[static_cast<std::size_t>(crop)];
      EPE_CHECK(b.r0 >= 0 && b.c0 >= 0 && b.r1 <= labels.rows && b.c1 <= labels.cols && b.r1 > b.r0 && b.c1 > b.c0,
                at_line(list.path, row.line,
                        cat("crop ", crop, " of '", store.path(), "' (rows ", b.r0, "..", b.r1, ", cols ", b.c0, "..",
                            b.c1, ") lies outside the ", labels.rows, "x", labels.cols, " label map")));
      crop_grid(labels, b, o.grid, grids[job.side].data() + s * g2);
    }
    if (progress) progress->add(1);
  });

  // Agreement: positions whose labels are equal and not 255, over all positions.
  std::vector<SamplingRow> out;
  for (Draw& d : draws) {
    SamplingRow r = d.row;
    if (r.available) {
      const int C = label_classes(kind);
      std::vector<double> freq_a(C, 0.0), freq_b(C, 0.0);
      double sum = 0, sum2 = 0;
      for (const auto& [s, t] : d.pairs) {
        const std::uint8_t* a = grids[0].data() + slot[0].at(s) * g2;
        const std::uint8_t* b = grids[1].data() + slot[1].at(t) * g2;
        int equal = 0;
        for (int i = 0; i < g2; ++i) {
          equal += a[i] == b[i] && a[i] != 255;
          if (a[i] < C) freq_a[a[i]] += 1;
          if (b[i] < C) freq_b[b[i]] += 1;
        }
        const double f = double(equal) / g2;
        sum += f;
        sum2 += f * f;
      }
      r.pairs = static_cast<std::int64_t>(d.pairs.size());
      const double n = double(r.pairs);
      r.agreement = sum / n;
      const double var = n > 1 ? std::max(0.0, (sum2 - sum * sum / n) / (n - 1)) : 0.0;
      r.agreement_sem = std::sqrt(var / n);
      r.class_js = js_divergence(freq_a, freq_b);
    }
    out.push_back(r);
  }
  return out;
}

}  // namespace epe
