#include "epe/train/data.h"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "epe/core/error.h"
#include "epe/core/options.h"
#include "epe/core/rng.h"
#include "epe/core/thread_pool.h"
#include "epe/crops/crop_store.h"
#include "epe/io/classes.h"
#include "epe/io/file_list.h"
#include "epe/io/gbuffers.h"
#include "epe/io/image.h"
#include "epe/io/labels.h"
#include "epe/match/match_store.h"
#include "epe/nn/convert.h"

namespace fs = std::filesystem;

namespace epe {

const Choices<PairSampling>& pair_samplings() {
  static const Choices<PairSampling> c{{"matched", PairSampling::matched}, {"independent", PairSampling::independent}};
  return c;
}

void TrainDataOptions::check() const {
  EPE_CHECK(!synthetic.empty(), "option --synthetic (the synthetic file list) is required");
  EPE_CHECK(!real.empty(), "option --real (the real file list) is required");
  EPE_CHECK(sampling == PairSampling::independent || !matches.empty(), "--sampling matched needs --matches MATCH.h5");
  EPE_CHECK(crop >= 16, "option --crop must be >= 16");
  EPE_CHECK(resize >= 0, "option --resize must be >= 0");
  EPE_CHECK(window == 0 || window >= 16, "option --window must be 0 (off) or >= 16, got ", window);
  EPE_CHECK(window == 0 || resize == 0, "options --window and --resize exclude each other (--window ", window,
            ", --resize ", resize, ")");
  EPE_CHECK(sampling == PairSampling::matched || window <= crop, "option --window ", window, " is larger than --crop ",
            crop);
  EPE_CHECK(batch >= 1, "option --batch must be >= 1");
  EPE_CHECK(label_classes >= 1 && label_classes <= 255, "option --label-classes must be in 1..255");
}

at::Tensor material_one_hot(const MaterialTable& table, const cv::Mat& gt) {
  torch::Tensor m = torch::empty({gt.rows, gt.cols}, torch::kInt64);
  auto* mp = m.data_ptr<std::int64_t>();
  for (int r = 0; r < gt.rows; ++r)
    for (int c = 0; c < gt.cols; ++c) mp[r * gt.cols + c] = table.of_id[gt.at<std::uint8_t>(r, c)];
  return torch::one_hot(m, static_cast<int64_t>(table.names.size())).permute({2, 0, 1}).to(torch::kFloat32);
}

struct TrainData::Impl {
  TrainDataOptions o;
  FileList syn, real;
  MaterialTable materials;
  int gbuffer_channels = 0, num_classes = 0;
  std::vector<std::string> gbuffer_names;
  // matched sampling
  std::vector<CropBox> src_boxes, dst_boxes;
  std::vector<std::int32_t> src_row, dst_row;  // crop-store frame -> list row
  std::vector<std::int32_t> pair_src, pair_dst;
  std::vector<double> cum;  // cumulative weights (empty: uniform)
  bool weighted = false;
  std::unique_ptr<ThreadPool> pool;
};

namespace {

std::vector<std::int32_t> frame_rows(const CropStore& store, const FileList& list, const char* which) {
  std::vector<std::int32_t> rows;
  const std::string miss = rows_of_frames(store, list, &rows);
  EPE_CHECK(miss.empty(), "--matches (", which, " side): ", miss);
  return rows;
}

// A robust label map for training: ids 0..classes-1 index the discriminator's label embedding;
// 255 (unlabeled) is kept and masked out of its projection term.
cv::Mat read_robust_labels(const std::string& path, const LabelFormat& format, int classes) {
  try {
    return read_label_map(path, classes - 1, /*allow_unlabeled=*/true, format);
  } catch (const UserError& e) {
    throw UserError(cat(e.what(), "; robust label ids index the discriminator's label embedding of ", classes,
                        " classes (--label-classes; 255 = unlabeled is allowed)"));
  }
}

torch::Tensor label_tensor(const cv::Mat& m) {  // CV_8UC1 -> [h, w] int64
  cv::Mat c = m.isContinuous() ? m : m.clone();
  return torch::from_blob(c.data, {c.rows, c.cols}, torch::kUInt8).to(torch::kInt64);
}

}  // namespace

TrainData::TrainData(const TrainDataOptions& o, int gbuffer_channels, int num_classes)
    : impl_(std::make_unique<Impl>()) {
  o.check();
  Impl& d = *impl_;
  d.o = o;
  d.gbuffer_channels = gbuffer_channels;
  d.num_classes = num_classes;
  d.syn = read_file_list(o.synthetic, DatasetKind::synthetic);
  d.real = read_file_list(o.real, DatasetKind::real);
  d.materials = MaterialTable::read(material_table_for(o.materials, d.syn));
  EPE_CHECK(static_cast<int>(d.materials.names.size()) == num_classes, "the material table has ",
            d.materials.names.size(), " materials but the generator expects ", num_classes, " (num_classes)");
  d.pool = std::make_unique<ThreadPool>(o.threads > 0 ? std::size_t(o.threads) : 0);
  // Every frame's G-buffers (header only) and robust labels, before any step runs.
  std::mutex m;
  std::string err;
  std::size_t err_row = SIZE_MAX;
  auto fail = [&](std::size_t key, const std::string& msg) {
    std::lock_guard<std::mutex> lock(m);
    if (key < err_row) err_row = key, err = msg;
  };
  const std::size_t ns = d.syn.rows.size();
  d.pool->parallel_for(ns + d.real.rows.size(), [&](std::size_t i) {
    const bool syn = i < ns;
    const FileList& list = syn ? d.syn : d.real;
    const ListRow& row = list.rows[syn ? i : i - ns];
    try {
      const auto hw = read_image_size(row.image());
      EPE_CHECK(!row.robust_labels().empty(), "no robust labels (run `epe segment`)");
      const cv::Mat lab = read_robust_labels(row.robust_labels(), list.format.robust, d.o.label_classes);
      check_same_size(lab, row.robust_labels(), hw[0], hw[1], row.image());
      if (syn) {
        EPE_CHECK(!row.gbuffers().empty(), "no G-buffers in this row");
        const GBufferHeader g = probe_gbuffers(row.gbuffers());
        EPE_CHECK(g.channels == gbuffer_channels, "G-buffers '", row.gbuffers(), "' have ", g.channels, " channels (",
                  join(g.names, ", "), ") but the generator expects ", gbuffer_channels,
                  " (gbuffer_channels; missing channels cannot be made up)");
        EPE_CHECK(g.height == hw[0] && g.width == hw[1], "G-buffers '", row.gbuffers(), "' are ", g.height, "x",
                  g.width, " but the image is ", hw[0], "x", hw[1]);
        EPE_CHECK(!row.gt_labels().empty(), "no GT labels in this row (material classes come from them)");
        if (i == 0) {
          std::lock_guard<std::mutex> lock(m);
          d.gbuffer_names = g.names;
        }
      }
    } catch (const UserError& e) {
      fail(i, at_line(list.path, row.line, e.what()));
    }
  });
  if (!err.empty()) throw UserError(err);
  if (o.sampling == PairSampling::matched) {
    const MatchStore ms = MatchStore::open(o.matches);
    const CropStore src(ms.src_path()), dst(ms.dst_path());
    ms.check_crop_stores(src, &dst);
    EPE_CHECK(!ms.pair_src.empty(), "match store '", o.matches, "' has no pairs");
    d.src_boxes = src.boxes();
    d.dst_boxes = dst.boxes();
    d.src_row = frame_rows(src, d.syn, "source");
    d.dst_row = frame_rows(dst, d.real, "target");
    d.pair_src = ms.pair_src;
    d.pair_dst = ms.pair_dst;
    if (!ms.weight.empty()) {
      d.weighted = true;
      double t = 0;
      for (double w : ms.weight) d.cum.push_back(t += std::max(0.0, w));
      EPE_CHECK(t > 0, "match store '", o.matches, "': every sampling weight is 0");
    }
    // --window against the paired crops, before any step (a crop store's boxes can have any size).
    if (o.window > 0)
      for (std::size_t i = 0; i < d.pair_src.size(); ++i)
        for (const CropBox* box : {&d.src_boxes[static_cast<std::size_t>(d.pair_src[i])],
                                   &d.dst_boxes[static_cast<std::size_t>(d.pair_dst[i])]}) {
          const int h = box->r1 - box->r0, w = box->c1 - box->c0;
          EPE_CHECK(h >= o.window && w >= o.window, "option --window ", o.window, " is larger than a ", h, "x", w,
                    " crop of pair ", i, " in the match store '", o.matches, "'");
        }
  }
}

TrainData::~TrainData() = default;

std::int64_t TrainData::pairs() const {
  return static_cast<std::int64_t>(impl_->pair_src.size());
}

std::string TrainData::summary() const {
  const Impl& d = *impl_;
  std::string s = cat("synthetic ", d.syn.rows.size(), " frames (G-buffers: ", d.gbuffer_channels,
                      " channels: ", join(d.gbuffer_names, ", "), "), real ", d.real.rows.size(), " frames; ");
  if (d.o.sampling == PairSampling::matched)
    s += cat("matched sampling from ", pairs(), " pairs (",
             d.weighted ? "with sampling weights" : "uniform: no weights", ")");
  else
    s += cat("independent sampling of ", d.o.crop, "x", d.o.crop, " crops");
  if (d.o.resize > 0) s += cat(", crops resized to ", d.o.resize, "x", d.o.resize);
  if (d.o.window > 0) s += cat(", ", d.o.window, "x", d.o.window, " windows of the crops at native scale");
  s += cat("; batch ", d.o.batch, "; ", d.materials.names.size(), " materials (", join(d.materials.names, ", "), ")");
  return s;
}

std::size_t TrainData::synthetic_frames() const {
  return impl_->syn.rows.size();
}

TrainBatch TrainData::frame(std::size_t i) const {
  const Impl& d = *impl_;
  const ListRow& row = d.syn.rows.at(i);
  TrainBatch t;
  try {
    const cv::Mat img = read_image(row.image());
    const GBuffers gbuf = read_gbuffers(row.gbuffers());
    EPE_CHECK(gbuf.channels == d.gbuffer_channels && gbuf.height == img.rows && gbuf.width == img.cols, "G-buffers '",
              row.gbuffers(), "' do not match the frame (", gbuf.channels, " channels of ", gbuf.height, "x",
              gbuf.width, ")");
    t.syn_image = nn::image_to_tensor(img).unsqueeze(0);
    t.gbuffers = nn::hwc_to_tensor(gbuf.data.data(), gbuf.height, gbuf.width, gbuf.channels).unsqueeze(0);
    t.classes = material_one_hot(d.materials, read_label_map(row.gt_labels(), 255, true, d.syn.format.gt)).unsqueeze(0);
  } catch (const UserError& e) {
    throw UserError(at_line(d.syn.path, row.line, e.what()));
  }
  return t;
}

TrainBatch TrainData::get(std::int64_t step, std::int64_t rollbacks, int rank) const {
  const Impl& d = *impl_;
  // Rank 0 draws what a single-process run draws; every other rank its own batch.
  Rng rng(d.o.seed + 0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(rollbacks) +
              0xD1B54A32D192ED03ULL * static_cast<std::uint64_t>(rank),
          static_cast<std::uint64_t>(step));
  struct Pick {
    std::int32_t syn_row, real_row;
    CropBox syn_box, real_box;
  };
  std::vector<Pick> picks;
  for (int b = 0; b < d.o.batch; ++b) {
    Pick p;
    if (d.o.sampling == PairSampling::matched) {
      std::size_t k;
      if (d.weighted) {
        const double u = rng.uniform() * d.cum.back();
        k = std::min(d.cum.size() - 1,
                     static_cast<std::size_t>(std::upper_bound(d.cum.begin(), d.cum.end(), u) - d.cum.begin()));
      } else {
        k = static_cast<std::size_t>(rng.uniform_int(static_cast<std::uint64_t>(d.pair_src.size())));
      }
      p.syn_box = d.src_boxes[static_cast<std::size_t>(d.pair_src[k])];
      p.real_box = d.dst_boxes[static_cast<std::size_t>(d.pair_dst[k])];
      p.syn_row = d.src_row[static_cast<std::size_t>(p.syn_box.image)];
      p.real_row = d.dst_row[static_cast<std::size_t>(p.real_box.image)];
    } else {
      p.syn_row = static_cast<std::int32_t>(rng.uniform_int(static_cast<std::uint64_t>(d.syn.rows.size())));
      p.real_row = static_cast<std::int32_t>(rng.uniform_int(static_cast<std::uint64_t>(d.real.rows.size())));
      for (int side = 0; side < 2; ++side) {
        const ListRow& row =
            (side == 0 ? d.syn : d.real).rows[static_cast<std::size_t>(side == 0 ? p.syn_row : p.real_row)];
        const auto hw = read_image_size(row.image());
        EPE_CHECK(hw[0] >= d.o.crop && hw[1] >= d.o.crop,
                  at_line(side == 0 ? d.syn.path : d.real.path, row.line,
                          cat("frame is ", hw[0], "x", hw[1], ", smaller than --crop ", d.o.crop)));
        const int r0 = static_cast<int>(rng.uniform_int(std::int64_t(0), std::int64_t(hw[0] - d.o.crop)));
        const int c0 = static_cast<int>(rng.uniform_int(std::int64_t(0), std::int64_t(hw[1] - d.o.crop)));
        (side == 0 ? p.syn_box : p.real_box) = CropBox{0, r0, r0 + d.o.crop, c0, c0 + d.o.crop};
      }
    }
    if (d.o.window > 0) {
      // Drawn after the crops, so --window 0 leaves the random stream (and every batch) as it was.
      const double fr = rng.uniform(), fc = rng.uniform();
      for (CropBox* box : {&p.syn_box, &p.real_box}) {
        const int h = box->r1 - box->r0, w = box->c1 - box->c0;  // >= window: checked in the constructor
        const int r0 = box->r0 + std::min(h - d.o.window, static_cast<int>(fr * (h - d.o.window + 1)));
        const int c0 = box->c0 + std::min(w - d.o.window, static_cast<int>(fc * (w - d.o.window + 1)));
        *box = CropBox{box->image, r0, r0 + d.o.window, c0, c0 + d.o.window};
      }
    }
    picks.push_back(p);
  }
  const int B = d.o.batch;
  std::vector<torch::Tensor> si(B), gb(B), cl(B), sl(B), ri(B), rl(B);
  d.pool->parallel_for(2 * std::size_t(B), [&](std::size_t j) {
    const int b = static_cast<int>(j / 2);
    const bool syn = j % 2 == 0;
    const Pick& p = picks[static_cast<std::size_t>(b)];
    const FileList& list = syn ? d.syn : d.real;
    const ListRow& row = list.rows[static_cast<std::size_t>(syn ? p.syn_row : p.real_row)];
    const CropBox& box = syn ? p.syn_box : p.real_box;
    const cv::Rect rect(box.c0, box.r0, box.c1 - box.c0, box.r1 - box.r0);
    try {
      const cv::Mat img = read_image(row.image());
      EPE_CHECK(rect.x >= 0 && rect.y >= 0 && rect.br().x <= img.cols && rect.br().y <= img.rows, "crop (rows ", box.r0,
                "..", box.r1, ", cols ", box.c0, "..", box.c1, ") lies outside the ", img.rows, "x", img.cols,
                " frame");
      torch::Tensor image = nn::image_to_tensor(img(rect));
      torch::Tensor labels =
          label_tensor(read_robust_labels(row.robust_labels(), list.format.robust, d.o.label_classes)(rect));
      torch::Tensor g, classes;
      if (syn) {
        const GBuffers gbuf = read_gbuffers(row.gbuffers());
        EPE_CHECK(gbuf.channels == d.gbuffer_channels, "G-buffers '", row.gbuffers(), "' have ", gbuf.channels,
                  " channels, expected ", d.gbuffer_channels);
        g = torch::from_blob(const_cast<float*>(gbuf.data.data()), {gbuf.height, gbuf.width, gbuf.channels},
                             torch::kFloat32)
                .slice(0, box.r0, box.r1)
                .slice(1, box.c0, box.c1)
                .permute({2, 0, 1})
                .clone();
        classes = material_one_hot(d.materials, read_label_map(row.gt_labels(), 255, true, list.format.gt)(rect));
      }
      if (d.o.resize > 0 && (image.size(1) != d.o.resize || image.size(2) != d.o.resize)) {
        namespace F = torch::nn::functional;
        const std::vector<int64_t> size{d.o.resize, d.o.resize};
        auto area = [&](const torch::Tensor& t) {
          return F::interpolate(t.unsqueeze(0), F::InterpolateFuncOptions().size(size).mode(torch::kArea)).squeeze(0);
        };
        auto nearest = [&](const torch::Tensor& t) {
          return F::interpolate(t.unsqueeze(0).unsqueeze(0).to(torch::kFloat32),
                                F::InterpolateFuncOptions().size(size).mode(torch::kNearest))
              .squeeze(0)
              .squeeze(0)
              .to(torch::kInt64);
        };
        image = area(image);
        labels = nearest(labels);
        if (syn) {
          g = area(g);
          classes = F::interpolate(classes.unsqueeze(0), F::InterpolateFuncOptions().size(size).mode(torch::kNearest))
                        .squeeze(0);
        }
      }
      if (syn) {
        si[b] = image;
        sl[b] = labels;
        gb[b] = g;
        cl[b] = classes;
      } else {
        ri[b] = image;
        rl[b] = labels;
      }
    } catch (const UserError& e) {
      throw UserError(at_line(list.path, row.line, e.what()));
    }
  });
  TrainBatch t;
  t.syn_image = torch::stack(si);
  t.gbuffers = torch::stack(gb);
  t.classes = torch::stack(cl);
  t.syn_labels = torch::stack(sl);
  t.real_image = torch::stack(ri);
  t.real_labels = torch::stack(rl);
  return t;
}

}  // namespace epe
