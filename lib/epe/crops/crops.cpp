#include "epe/crops/crops.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <filesystem>
#include <future>
#include <sstream>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/log.h"
#include "epe/core/options.h"
#include "epe/core/progress.h"
#include "epe/core/rng.h"
#include "epe/core/thread_pool.h"
#include "epe/core/timer.h"
#include "epe/crops/crop_store.h"
#include "epe/crops/embed.h"
#include "epe/io/file_list.h"
#include "epe/io/image.h"
#include "epe/nn/device.h"
#include "epe/nn/vgg16.h"

namespace fs = std::filesystem;

namespace epe {

namespace {

constexpr int kReceptiveField = 196;  // relu5_3 unit of valid-padding VGG-16
constexpr int kGridStride = 16;       // product of the four 2x2 pools

// One decoded frame, normalised, as a [3, H, W] float32 CPU tensor.
struct Frame {
  at::Tensor pixels;
  int height = 0, width = 0;
};

Frame decode(const std::string& path, const std::array<double, 3>& mean, const std::array<double, 3>& stdev) {
  cv::Mat rgb = read_image(path);  // CV_32FC3, R G B in [0, 1]
  Frame f;
  f.height = rgb.rows;
  f.width = rgb.cols;
  f.pixels = torch::empty({3, rgb.rows, rgb.cols}, torch::kFloat);
  float* out = f.pixels.data_ptr<float>();
  const std::size_t plane = static_cast<std::size_t>(rgb.rows) * rgb.cols;
  // Same float32 arithmetic as torchvision's (x - mean) / std.
  const float m[3] = {static_cast<float>(mean[0]), static_cast<float>(mean[1]), static_cast<float>(mean[2])};
  const float s[3] = {static_cast<float>(stdev[0]), static_cast<float>(stdev[1]), static_cast<float>(stdev[2])};
  for (int r = 0; r < rgb.rows; ++r) {
    const float* p = rgb.ptr<float>(r);
    const std::size_t o = static_cast<std::size_t>(r) * rgb.cols;
    for (int c = 0; c < rgb.cols; ++c)
      for (int k = 0; k < 3; ++k) out[k * plane + o + c] = (p[3 * c + k] - m[k]) / s[k];
  }
  return f;
}

// Boxes of one frame.
std::vector<CropBox> random_boxes(int h, int w, const CropsOptions& o, std::int64_t row) {
  Rng rng(o.seed, static_cast<std::uint64_t>(row));
  std::vector<CropBox> boxes;
  for (int i = 0; i < o.crops_per_image; ++i) {
    const int r = static_cast<int>(rng.uniform_int(static_cast<std::uint64_t>(h - o.crop_size + 1)));
    const int c = static_cast<int>(rng.uniform_int(static_cast<std::uint64_t>(w - o.crop_size + 1)));
    boxes.push_back({0, r, r + o.crop_size, c, c + o.crop_size});
  }
  return boxes;
}

// Grid positions (i, j) kept for a frame: every grid_step-th, then a seeded subsample.
std::vector<std::array<int, 2>> grid_positions(int h, int w, const CropsOptions& o, std::int64_t row) {
  const int rows = (h - o.crop_size) / kGridStride + 1, cols = (w - o.crop_size) / kGridStride + 1;
  std::vector<std::array<int, 2>> pos;
  for (int i = 0; i < rows; i += o.grid_step)
    for (int j = 0; j < cols; j += o.grid_step) pos.push_back({i, j});
  if (o.max_per_image > 0 && static_cast<int>(pos.size()) > o.max_per_image) {
    Rng rng(o.seed, static_cast<std::uint64_t>(row));
    std::vector<std::array<int, 2>> kept;
    for (std::int64_t k : rng.sample_without_replacement(static_cast<std::int64_t>(pos.size()), o.max_per_image))
      kept.push_back(pos[k]);
    pos.swap(kept);
  }
  return pos;
}

}  // namespace

void CropsOptions::check() const {
  EPE_CHECK(!list.empty(), "option --list is required");
  EPE_CHECK(!out.empty(), "option --out is required");
  EPE_CHECK(crop_size >= kReceptiveField, "option --crop-size: ", crop_size,
            " is smaller than VGG-16's relu5_3 receptive field (196)");
  EPE_CHECK(mode != CropMode::grid || (crop_size - kReceptiveField) % kGridStride == 0,
            "option --crop-size: grid mode needs ", "196 + 16k (196, 212, 228, ...), got ", crop_size);
  EPE_CHECK(crops_per_image >= 1, "option --crops-per-image: must be >= 1");
  EPE_CHECK(grid_step >= 1, "option --grid-step: must be >= 1");
  EPE_CHECK(max_per_image >= 0, "option --max-per-image: must be >= 0 (0 = all)");
  EPE_CHECK(mode == CropMode::grid || (grid_step == 1 && max_per_image == 0),
            "options --grid-step and --max-per-image apply to --mode grid only");
  EPE_CHECK(norm_frames >= 1, "option --norm-frames: must be >= 1");
  EPE_CHECK(batch >= 0, "option --batch: must be >= 0 (0 = automatic)");
  EPE_CHECK(decode_threads >= 1, "option --decode-threads: must be >= 1");
  EPE_CHECK(prefetch >= 1, "option --prefetch: must be >= 1");
  EPE_CHECK(!(resume && force), "options --resume and --force exclude each other");
}

ChannelStats dataset_channel_stats(const std::vector<std::string>& images, int max_frames, std::uint64_t seed,
                                   int threads, Progress* progress) {
  const std::int64_t n = static_cast<std::int64_t>(images.size());
  std::vector<std::int64_t> pick;
  if (n <= max_frames) {
    for (std::int64_t i = 0; i < n; ++i) pick.push_back(i);
  } else {
    Rng rng(seed, 0x6e6f726dULL);  // "norm"
    pick = rng.sample_without_replacement(n, max_frames);
  }
  std::vector<std::array<double, 6>> per(pick.size());
  if (progress) progress->set_total(static_cast<std::int64_t>(pick.size()));
  ThreadPool pool(std::max(1, threads));
  pool.parallel_for(pick.size(), [&](std::size_t k) {
    cv::Mat rgb = read_image(images[pick[k]]);
    const double count = static_cast<double>(rgb.rows) * rgb.cols;
    EPE_CHECK(count > 1, "image '", images[pick[k]], "' has a single pixel");
    double sum[3] = {0, 0, 0};
    for (int r = 0; r < rgb.rows; ++r) {
      const float* p = rgb.ptr<float>(r);
      for (int c = 0; c < rgb.cols; ++c)
        for (int ch = 0; ch < 3; ++ch) sum[ch] += p[3 * c + ch];
    }
    double ss[3] = {0, 0, 0};
    for (int r = 0; r < rgb.rows; ++r) {
      const float* p = rgb.ptr<float>(r);
      for (int c = 0; c < rgb.cols; ++c)
        for (int ch = 0; ch < 3; ++ch) {
          const double d = p[3 * c + ch] - sum[ch] / count;
          ss[ch] += d * d;
        }
    }
    for (int ch = 0; ch < 3; ++ch) {
      per[k][ch] = sum[ch] / count;
      per[k][3 + ch] = std::sqrt(ss[ch] / (count - 1));  // unbiased, as torch.std
    }
    if (progress) progress->add();
  });
  ChannelStats s;
  s.frames = static_cast<std::int64_t>(pick.size());
  for (const auto& p : per)
    for (int ch = 0; ch < 3; ++ch) {
      s.mean[ch] += p[ch] / s.frames;
      s.std[ch] += p[3 + ch] / s.frames;
    }
  return s;
}

CropsResult compute_crops(const CropsOptions& o, Progress* progress) {
  o.check();
  const Timer t0;
  const FileList list = read_image_list(o.list);
  const std::int64_t n_rows = static_cast<std::int64_t>(list.rows.size());
  const ShardRecord record = shard_record_of_list(o.list, n_rows, o.shard);
  const auto [row_begin, row_end] = record.rows();
  const std::string partial = o.out + ".partial";
  std::error_code ec;
  CropsResult res;
  res.row_begin = row_begin;
  res.row_end = row_end;

  const c10::Device device = nn::parse_device(o.device);
  const c10::ScalarType dtype = nn::parse_precision(o.precision, device);
  nn::Vgg16Options vo;
  vo.weights = o.vgg;
  vo.seed = o.seed;
  vo.padding = nn::Padding::none;
  auto net = std::make_shared<nn::Vgg16>(vo);
  if (net->random_init())
    log_warn("no --vgg weights given: VGG-16 is randomly initialised (", net->provenance(),
             "); features are only good for testing the pipeline, not for matching real datasets");
  net->to(device, dtype);

  // A shard whose complete store is already there (a resubmitted array job): nothing to do.
  if (o.shard.active() && !o.force && fs::exists(o.out, ec)) {
    std::string why;
    try {
      CropStore done(o.out);
      if (!(done.shard_record() == record))
        why = cat("it is ",
                  done.shard_record().shard.active() ? "shard " + done.shard_record().shard.label() : "not a shard",
                  done.shard_record().list_sha256 == record.list_sha256 ? "" : " of another list");
      else if (done.attr("options") != o.options_ini)
        why = cat("its options differ (", first_line_difference(done.attr("options"), o.options_ini), ")");
      else if (done.meta().weights != net->provenance())
        why = cat("it was computed with VGG-16 weights ", done.meta().weights);
      if (why.empty()) {
        res.already_complete = true;
        res.out = o.out;
        res.frames = static_cast<std::int64_t>(done.image_paths().size());
        res.frames_skipped = done.frames_skipped();
        res.frames_resumed = done.frames_done();
        res.crops = done.size();
        res.mean = done.meta().norm_mean;
        res.std = done.meta().norm_std;
        res.weights = done.meta().weights;
        res.random_weights = net->random_init();
        res.bytes = static_cast<std::int64_t>(fs::file_size(o.out, ec));
        log_info("shard ", o.shard.label(), " is already complete in '", o.out, "'; nothing to do");
        return res;
      }
    } catch (const UserError& e) {
      why = e.what();
    }
    throw UserError(cat("option --out: '", o.out, "' exists and is not this shard's finished store (", why,
                        "); pass --force to overwrite it"));
  }
  check_output_path(o.out, o.force, "--out");

  // Open (resume) or create the store under <out>.partial.
  std::unique_ptr<CropStoreWriter> writer;
  if (o.resume && fs::exists(partial, ec)) {
    writer = std::make_unique<CropStoreWriter>(partial);
    const std::string diff = first_line_difference(writer->options_ini(), o.options_ini);
    EPE_CHECK(diff.empty(), "cannot --resume '", partial, "': its options differ from this run's (", diff,
              "); rerun with the same options, or with --force to start again");
    EPE_CHECK(writer->meta().weights == net->provenance(), "cannot --resume '", partial,
              "': it was computed with VGG-16 weights ", writer->meta().weights, ", this run has ", net->provenance());
    EPE_CHECK(writer->shard_record() == record, "cannot --resume '", partial, "': it was started ",
              writer->shard_record().shard.active() ? "as shard " + writer->shard_record().shard.label() : "unsharded",
              writer->shard_record().list_sha256 == record.list_sha256 ? "" : " on a different list file",
              "; this run is ", o.shard.active() ? "shard " + o.shard.label() : "unsharded",
              "; rerun it the same way, or with --force to start again");
    EPE_CHECK(writer->frames_done() <= row_end - row_begin, "cannot --resume '", partial, "': it has ",
              writer->frames_done(), " frames done but the list has only ", row_end - row_begin, " rows",
              o.shard.active() ? " in shard " + o.shard.label() : "");
    res.frames_resumed = writer->frames_done();
    log_info("resuming '", partial, "' after ", writer->frames_done(), " of ", row_end - row_begin, " frames (",
             writer->crops(), " crops)");
  } else {
    if (o.resume) log_warn("--resume: no interrupted run at '", partial, "'; starting from the beginning");
    EPE_CHECK(!fs::exists(partial, ec) || o.force, "'", partial,
              "' exists (an interrupted run); pass --resume to continue it or --force to start again");
    CropStoreMeta meta;
    meta.name = o.name.empty() ? fs::path(o.list).stem().string() : o.name;
    meta.mode = choice_name(crop_modes(), o.mode);
    meta.crop_size = o.crop_size;
    meta.stride = kGridStride;
    meta.seed = o.seed;
    meta.weights = net->provenance();
    meta.padding = "none";
    meta.norm = choice_name(crop_norms(), o.norm);
    if (o.norm == CropNorm::dataset) {
      std::vector<std::string> images;
      for (const auto& r : list.rows) images.push_back(r.image());
      if (progress) progress->phase("crops: dataset statistics", 0, "frames");
      ChannelStats s = dataset_channel_stats(images, o.norm_frames, o.seed, o.decode_threads, progress);
      if (progress) progress->phase("crops", 0, "frames");
      meta.norm_mean = s.mean;
      meta.norm_std = s.std;
      log_info("dataset statistics over ", s.frames, " frames: mean ", s.mean[0], " ", s.mean[1], " ", s.mean[2],
               ", std ", s.std[0], " ", s.std[1], " ", s.std[2]);
    }
    fs::remove(partial, ec);
    writer = std::make_unique<CropStoreWriter>(partial, meta, o.command, o.options_ini);
    writer->record_list(record);
  }
  const CropStoreMeta meta = writer->meta();
  res.mean = meta.norm_mean;
  res.std = meta.norm_std;
  res.weights = net->provenance();
  res.random_weights = net->random_init();

  const bool grid = o.mode == CropMode::grid;
  const int batch = o.batch > 0 ? o.batch : grid ? (device.is_cuda() ? 4 : 1) : (device.is_cuda() ? 64 : 4);
  // Rows are global list rows (they seed corners and subsamples); the store counts the
  // shard's rows done.
  const std::int64_t start = row_begin + writer->frames_done();
  const std::int64_t crops_at_start = writer->crops();
  std::int64_t skipped = writer->frames_skipped();
  if (progress) {
    progress->set_total(row_end - row_begin);
    progress->set(start - row_begin);
  }

  ThreadPool pool(static_cast<std::size_t>(o.decode_threads));
  std::deque<std::future<Frame>> ahead;
  std::int64_t next_submit = start;
  auto refill = [&] {
    while (next_submit < row_end && static_cast<int>(ahead.size()) < std::max(o.prefetch, grid ? batch : 1)) {
      const std::string path = list.rows[next_submit].image();
      ahead.push_back(pool.submit([path, &meta] { return decode(path, meta.norm_mean, meta.norm_std); }));
      ++next_submit;
    }
  };

  c10::InferenceMode inference;
  const std::int64_t dim = meta.dim;
  auto check_finite = [&](const at::Tensor& f, const std::vector<std::string>& paths) {
    if (!torch::isfinite(f).all().item<bool>())
      throw UserError(cat("VGG-16 produced non-finite features for ", paths.size() == 1 ? "frame '" : "frames '",
                          join(paths, "', '"), "' (check the weights file ", net->provenance(), ")"));
  };

  std::int64_t row = start;
  try {
    refill();
    while (row < row_end) {
      // A group of whole frames: the unit of commit. Random mode: frames until >= batch crops;
      // grid mode: up to `batch` consecutive frames of one size.
      std::vector<Frame> frames;
      std::vector<std::int64_t> rows_in_group;
      std::int64_t group_crops = 0;
      while (row < row_end) {
        if (!frames.empty() && (grid ? static_cast<int>(frames.size()) >= batch : group_crops >= batch)) break;
        Frame f = ahead.front().get();
        ahead.pop_front();
        refill();
        const ListRow& lr = list.rows[row];
        if (f.height < o.crop_size || f.width < o.crop_size) {
          EPE_CHECK(o.skip_small,
                    at_line(o.list, lr.line,
                            cat("frame '", lr.image(), "' is ", f.height, "x", f.width, ", smaller than the ",
                                o.crop_size, "x", o.crop_size, " crop; pass --skip-small to skip such frames")));
          ++skipped;
          ++row;
          if (frames.empty()) {
            writer->commit(row - row_begin, skipped);
            if (progress) progress->add();
            continue;
          }
          rows_in_group.push_back(-1);
          continue;
        }
        if (grid && !frames.empty() && (f.height != frames[0].height || f.width != frames[0].width)) {
          // A different size starts the next group; put the frame back.
          std::promise<Frame> p;
          p.set_value(std::move(f));
          ahead.push_front(p.get_future());
          break;
        }
        group_crops += grid ? 0 : o.crops_per_image;
        frames.push_back(std::move(f));
        rows_in_group.push_back(row);
        ++row;
      }
      if (frames.empty()) continue;

      std::vector<CropBox> boxes;
      std::vector<std::string> paths;
      std::vector<std::int32_t> ids;
      for (std::int64_t r : rows_in_group) {
        if (r < 0) continue;
        const Frame& f = frames[ids.size()];
        ids.push_back(writer->add_image(list.rows[r].image(), f.height, f.width));
        paths.push_back(list.rows[r].image());
      }

      if (!grid) {
        std::vector<at::Tensor> crops;
        for (size_t k = 0, fi = 0; k < rows_in_group.size(); ++k) {
          if (rows_in_group[k] < 0) continue;
          const Frame& f = frames[fi];
          for (CropBox b : random_boxes(f.height, f.width, o, rows_in_group[k])) {
            b.image = ids[fi];
            boxes.push_back(b);
            crops.push_back(f.pixels.slice(1, b.r0, b.r1).slice(2, b.c0, b.c1));
          }
          ++fi;
        }
        for (size_t b0 = 0; b0 < crops.size(); b0 += batch) {
          const size_t b1 = std::min(crops.size(), b0 + batch);
          at::Tensor x = torch::stack(at::TensorList(crops).slice(b0, b1 - b0)).to(device, dtype);
          at::Tensor feat = embed_crops(*net, x).to(torch::kCPU, torch::kFloat).contiguous();
          check_finite(feat, paths);
          writer->add_crops(boxes.data() + b0, feat.data_ptr<float>(), static_cast<std::int64_t>(b1 - b0));
        }
      } else {
        std::vector<at::Tensor> inputs;
        for (const Frame& f : frames) inputs.push_back(f.pixels);
        at::Tensor x = torch::stack(inputs).to(device, dtype);
        at::Tensor y = embed_grid(*net, x, o.crop_size).to(torch::kCPU, torch::kFloat).contiguous();  // [F,R,C,512]
        check_finite(y, paths);
        const float* data = y.data_ptr<float>();
        for (size_t fi = 0, k = 0; k < rows_in_group.size(); ++k) {
          if (rows_in_group[k] < 0) continue;
          const Frame& f = frames[fi];
          const int R = static_cast<int>(y.size(1)), C = static_cast<int>(y.size(2));
          std::vector<std::array<int, 2>> pos = grid_positions(f.height, f.width, o, rows_in_group[k]);
          std::vector<float> feat(pos.size() * dim);
          std::vector<CropBox> fb;
          for (size_t p = 0; p < pos.size(); ++p) {
            const int i = pos[p][0], j = pos[p][1];
            EPE_ASSERT(i < R && j < C, "grid position (", i, ",", j, ") outside the ", R, "x", C, " relu5_3 map");
            std::copy_n(data + (((fi * R) + i) * C + j) * dim, dim, feat.data() + p * dim);
            fb.push_back({ids[fi], kGridStride * i, kGridStride * i + o.crop_size, kGridStride * j,
                          kGridStride * j + o.crop_size});
          }
          writer->add_crops(fb.data(), feat.data(), static_cast<std::int64_t>(fb.size()));
          ++fi;
        }
      }
      writer->commit(row - row_begin, skipped);
      if (progress) progress->set(row - row_begin);
    }
  } catch (...) {
    if (row_begin + writer->frames_done() > start)
      log_info("the frames finished so far are kept in '", partial, "'; fix the problem and rerun with --resume");
    throw;
  }

  res.frames = writer->images();
  res.frames_skipped = skipped;
  res.crops = writer->crops();
  res.crops_this_run = res.crops - crops_at_start;
  writer->finish();
  writer.reset();
  fs::rename(partial, o.out, ec);
  EPE_CHECK(!ec, "cannot rename '", partial, "' to '", o.out, "': ", ec.message());
  fsync_path(fs::absolute(o.out).parent_path().string());
  res.out = o.out;
  res.bytes = static_cast<std::int64_t>(fs::file_size(o.out, ec));
  res.seconds = t0.seconds();
  return res;
}

}  // namespace epe
