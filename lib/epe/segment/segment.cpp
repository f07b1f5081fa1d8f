#include "epe/segment/segment.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <future>
#include <opencv2/imgproc.hpp>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/log.h"
#include "epe/core/progress.h"
#include "epe/core/sha256.h"
#include "epe/core/thread_pool.h"
#include "epe/core/timer.h"
#include "epe/io/file_list.h"
#include "epe/io/image.h"
#include "epe/io/labels.h"
#include "epe/io/shard_record.h"
#include "epe/nn/device.h"
#include "epe/segment/shards.h"

namespace fs = std::filesystem;

namespace epe {

void SegmentProtocol::check() const {
  EPE_CHECK(base_size >= 1, "option --base-size: must be >= 1");
  EPE_CHECK(crop >= 1, "option --crop: must be >= 1");
  EPE_CHECK(!scales.empty(), "option --scales: give at least one scale");
  for (double s : scales) EPE_CHECK(s > 0 && s <= 16, "option --scales: ", s, " is not in (0, 16]");
  EPE_CHECK(mean.size() == 3, "option --mean: give 3 values (R,G,B)");
  EPE_CHECK(std.size() == 3, "option --std: give 3 values (R,G,B)");
  for (double s : std) EPE_CHECK(s > 0, "option --std: values must be > 0");
  EPE_CHECK(classes >= 1 && classes <= 255, "option --classes: 1..255 (label maps are 8-bit, 255 = unlabeled)");
  EPE_CHECK(batch >= 1, "option --batch: must be >= 1");
}

struct Segmenter::Impl {
  torch::jit::Module model;
  SegmentProtocol p;
  c10::Device device{c10::kCPU};
  std::string path;
  // Buffers reused from frame to frame: at 194 classes a full-frame probability map is hundreds
  // of MiB, and fresh allocations of that size cost more in page faults than the arithmetic.
  at::Tensor prob_buf, sum_buf, count_buf, total_buf;

  static at::Tensor& fit(at::Tensor& buf, at::IntArrayRef shape) {
    if (!buf.defined()) buf = torch::empty(shape);
    buf.resize_(shape);
    return buf;
  }

  // Probabilities [C, H, W] of a frame (a view of total_buf, valid until the next call).
  at::Tensor frame_probabilities(const cv::Mat& rgb_u8);

  // Softmax probabilities [B, C, crop, crop] of a batch of normalised windows (flip-averaged).
  at::Tensor run(const at::Tensor& windows) {
    const int64_t b = windows.size(0);
    at::Tensor x = p.flip ? torch::cat({windows, windows.flip(3)}) : windows;
    at::Tensor y;
    try {
      c10::IValue out = model.forward({x.to(device)});
      EPE_CHECK(out.isTensor(), "model '", path, "' returned a ", out.tagKind(), ", expected a tensor of logits");
      y = out.toTensor();
    } catch (const UserError&) {
      throw;
    } catch (const std::exception& e) {
      std::string what = e.what();
      throw UserError(cat("model '", path, "' failed on a [", x.size(0), ", 3, ", p.crop, ", ", p.crop,
                          "] input: ", what.substr(0, what.find('\n'))));
    }
    EPE_CHECK(y.dim() == 4 && y.size(0) == x.size(0), "model '", path, "' returned shape ", y.sizes(), ", expected [",
              x.size(0), ", C, h, w]");
    EPE_CHECK(y.size(1) == p.classes, "model '", path, "' outputs ", y.size(1), " classes, expected ", p.classes,
              " (--classes)");
    y = y.to(torch::kFloat);
    if (y.size(2) != p.crop || y.size(3) != p.crop)
      y = torch::upsample_bilinear2d(y, {p.crop, p.crop}, /*align_corners=*/true);
    if (y.is_cuda()) {
      y = torch::softmax(y, 1);
    } else {
      at::_softmax_out(fit(prob_buf, y.sizes()), y.contiguous(), 1, false);
      y = prob_buf;
    }
    if (p.flip) {
      at::Tensor a = y.slice(0, 0, b);
      a.add_(y.slice(0, b, 2 * b).flip(3)).mul_(0.5);
      y = a;
    }
    return y.to(torch::kCPU);
  }
};

Segmenter::Segmenter(const std::string& model_path, const SegmentProtocol& protocol) : impl_(new Impl) {
  protocol.check();
  impl_->p = protocol;
  impl_->path = model_path;
  impl_->device = nn::parse_device(protocol.device);
  std::error_code ec;
  EPE_CHECK(fs::is_regular_file(model_path, ec), "model '", model_path, "' does not exist");
  try {
    impl_->model = torch::jit::load(model_path, impl_->device);
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw UserError(
        cat("'", model_path, "' is not a TorchScript model (export it with torch.jit.trace or ",
            "torch.jit.script and save it with .save(); see the README): ", what.substr(0, what.find('\n'))));
  }
  impl_->model.eval();
  {
    // One window before any output exists: a wrong class count or a failing model is reported
    // without writing anything.
    c10::InferenceMode guard;
    impl_->run(torch::zeros({1, 3, protocol.crop, protocol.crop}));
  }
  provenance_ = cat(fs::path(model_path).filename().string(), " sha256:", sha256_file(model_path));
}

Segmenter::~Segmenter() = default;

at::Tensor Segmenter::Impl::frame_probabilities(const cv::Mat& rgb_u8) {
  const int H = rgb_u8.rows, W = rgb_u8.cols, C = p.classes, crop = p.crop;
  at::Tensor total = fit(total_buf, {C, H, W});
  bool first_scale = true;
  for (double scale : p.scales) {
    // Short side -> round(scale * base), the long side in proportion (MSeg's resize_by_scaled_short_side).
    const int s = std::max(1, static_cast<int>(std::lround(scale * p.base_size)));
    int nh = s, nw = s;
    if (H > W)
      nh = std::max(1, static_cast<int>(std::lround(static_cast<double>(s) / W * H)));
    else
      nw = std::max(1, static_cast<int>(std::lround(static_cast<double>(s) / H * W)));
    cv::Mat resized, f;
    cv::resize(rgb_u8, resized, {nw, nh}, 0, 0, cv::INTER_LINEAR);
    resized.convertTo(f, CV_32FC3);
    const int ph = std::max(crop - nh, 0), pw = std::max(crop - nw, 0), ph2 = ph / 2, pw2 = pw / 2;
    const int PH = nh + ph, PW = nw + pw;
    // Normalised and padded with the mean colour (= 0 after normalisation).
    at::Tensor img = torch::zeros({3, PH, PW});
    float* ip = img.data_ptr<float>();
    const float m[3] = {float(p.mean[0]), float(p.mean[1]), float(p.mean[2])};
    const float sd[3] = {float(p.std[0]), float(p.std[1]), float(p.std[2])};
    for (int r = 0; r < nh; ++r) {
      const float* row = f.ptr<float>(r);
      for (int c = 0; c < nw; ++c)
        for (int k = 0; k < 3; ++k)
          ip[(static_cast<size_t>(k) * PH + r + ph2) * PW + c + pw2] = (row[3 * c + k] - m[k]) / sd[k];
    }
    const int stride = static_cast<int>(std::ceil(crop * 2.0 / 3.0));
    const int gh = static_cast<int>(std::ceil(double(PH - crop) / stride)) + 1;
    const int gw = static_cast<int>(std::ceil(double(PW - crop) / stride)) + 1;
    std::vector<std::array<int, 2>> corners;
    for (int i = 0; i < gh; ++i)
      for (int j = 0; j < gw; ++j) {
        const int r1 = std::min(i * stride + crop, PH), c1 = std::min(j * stride + crop, PW);
        corners.push_back({r1 - crop, c1 - crop});
      }
    at::Tensor sum = fit(sum_buf, {C, PH, PW}).zero_(), count = fit(count_buf, {1, PH, PW}).zero_();
    for (size_t b0 = 0; b0 < corners.size(); b0 += p.batch) {
      const size_t b1 = std::min(corners.size(), b0 + p.batch);
      std::vector<at::Tensor> wins;
      for (size_t w = b0; w < b1; ++w)
        wins.push_back(img.slice(1, corners[w][0], corners[w][0] + crop).slice(2, corners[w][1], corners[w][1] + crop));
      at::Tensor prob = run(torch::stack(wins));
      for (size_t w = b0; w < b1; ++w) {
        const auto [r0, c0] = corners[w];
        sum.slice(1, r0, r0 + crop).slice(2, c0, c0 + crop) += prob[w - b0];
        count.slice(1, r0, r0 + crop).slice(2, c0, c0 + crop) += 1;
      }
    }
    at::Tensor pr = sum.div_(count).slice(1, ph2, ph2 + nh).slice(2, pw2, pw2 + nw);
    if (nh != H || nw != W)
      pr = torch::upsample_bilinear2d(pr.unsqueeze(0), {H, W}, /*align_corners=*/false).squeeze(0);
    if (first_scale)
      total.copy_(pr);
    else
      total.add_(pr);
    first_scale = false;
  }
  if (p.scales.size() > 1) total.div_(static_cast<double>(p.scales.size()));
  return total;
}

cv::Mat Segmenter::labels(const cv::Mat& rgb_u8) {
  EPE_ASSERT(rgb_u8.type() == CV_8UC3, "Segmenter: expected an 8-bit RGB frame");
  c10::InferenceMode guard;
  // argmax returns the first maximal index: the lowest class wins ties.
  at::Tensor best = impl_->frame_probabilities(rgb_u8).argmax(0).to(torch::kUInt8).contiguous();
  cv::Mat out(rgb_u8.rows, rgb_u8.cols, CV_8UC1);
  std::memcpy(out.data, best.data_ptr<std::uint8_t>(), static_cast<size_t>(out.rows) * out.cols);
  return out;
}

// ---------------------------------------------------------------- the command

void SegmentOptions::check() const {
  EPE_CHECK(!list.empty(), "option --list is required");
  EPE_CHECK(!model.empty(), "option --model is required");
  EPE_CHECK(!out.empty(), "option --out is required");
  EPE_CHECK(!(resume && force), "options --resume and --force exclude each other");
  protocol.check();
}

SegmentResult segment_list(const SegmentOptions& o, Progress* progress) {
  o.check();
  const Timer t0;
  const FileList list = read_image_list(o.list);
  const ShardRecord shard = shard_record_of_list(o.list, static_cast<std::int64_t>(list.rows.size()), o.shard);
  const auto [row_begin, row_end] = shard.rows();
  std::error_code ec;
  // Shards share OUT, so only an unsharded run insists that it is new.
  EPE_CHECK(o.shard.active() || !fs::exists(o.out, ec) || o.resume || o.force, "'", o.out,
            "' exists; pass --resume to continue it or --force to recompute everything");
  Segmenter seg(o.model, o.protocol);  // before anything is created
  // The record of what made the labels: written first, compared on --resume (and by every
  // shard) so that one folder never mixes two models or protocols.
  const std::string ini_path = (fs::path(o.out) / "segment.ini").string();
  const std::string record = cat("# epe segment, model: ", seg.provenance(), "\n", o.options_ini);
  SegmentResult res;
  res.row_begin = row_begin;
  res.row_end = row_end;
  const SegmentShardMarker marker{shard, o.list, o.out, record};
  if (o.shard.active()) {
    res.shard_marker = segment_marker_path(o.out, o.shard);
    if (!o.force && fs::exists(res.shard_marker, ec) && read_text_file(res.shard_marker) == marker.text()) {
      res.already_complete = true;
      res.frames = row_end - row_begin;
      res.labels_dir = (fs::path(o.out) / "labels").string();
      log_info("shard ", o.shard.label(), " is already complete in '", o.out, "' (", res.shard_marker,
               "); nothing to do");
      return res;
    }
  }
  if ((o.resume || o.shard.active()) && !o.force && fs::exists(ini_path, ec))
    EPE_CHECK(read_text_file(ini_path) == record, o.shard.active() ? "shard " + o.shard.label() + ": " : "", "cannot ",
              o.shard.active() ? "add to" : "--resume", " '", o.out,
              "': it was made with another model or other options (", ini_path, "); use --force to recompute");
  res.labels_dir = (fs::path(o.out) / "labels").string();
  fs::create_directories(res.labels_dir, ec);
  EPE_CHECK(!ec, "cannot create '", res.labels_dir, "': ", ec.message());
  const std::vector<std::string> label_paths = segment_label_paths(o.out, list);
  write_file_atomic(ini_path, record);
  if (progress) progress->set_total(row_end - row_begin);
  ThreadPool pool(2);
  std::deque<std::future<cv::Mat>> ahead;
  std::int64_t next = row_begin;
  auto done_already = [&](std::int64_t i) { return o.resume && fs::exists(label_paths[i], ec); };
  auto refill = [&] {
    while (next < row_end && ahead.size() < 3) {
      if (done_already(next)) {
        std::promise<cv::Mat> empty;
        empty.set_value(cv::Mat());
        ahead.push_back(empty.get_future());
      } else {
        const std::string path = list.rows[next].image();
        ahead.push_back(pool.submit([path] { return read_image_u8(path); }));
      }
      ++next;
    }
  };
  refill();
  for (std::int64_t i = row_begin; i < row_end; ++i) {
    cv::Mat frame = ahead.front().get();
    ahead.pop_front();
    refill();
    if (frame.empty()) {
      // Resumed: trust a label map of the frame's size.
      cv::Mat existing = read_label_map(label_paths[i], 255);
      cv::Mat img = read_image_u8(list.rows[i].image());
      EPE_CHECK(existing.rows == img.rows && existing.cols == img.cols, "'", label_paths[i],
                "' does not match its frame's size; remove it or use --force");
      ++res.reused;
    } else {
      cv::Mat labels;
      try {
        labels = seg.labels(frame);
      } catch (const UserError& e) {
        throw UserError(
            cat(at_line(o.list, list.rows[i].line, cat("frame '", list.rows[i].image(), "'")), ": ", e.what()));
      }
      write_png(label_paths[i], labels);
      ++res.frames;
    }
    if (progress) progress->add();
  }
  if (o.shard.active()) {
    fs::create_directories(fs::path(res.shard_marker).parent_path(), ec);
    EPE_CHECK(!ec, "cannot create '", fs::path(res.shard_marker).parent_path().string(), "': ", ec.message());
    write_file_atomic(res.shard_marker, marker.text());
  } else {
    res.list_out = segment_list_path(o.out, o.list);
    write_segment_list(res.list_out, list, label_paths);
  }
  res.seconds = t0.seconds();
  return res;
}

}  // namespace epe
