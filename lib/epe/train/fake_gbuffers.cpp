#include "epe/train/fake_gbuffers.h"

#include <torch/torch.h>

#include <array>
#include <filesystem>
#include <tuple>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/log.h"
#include "epe/core/options.h"
#include "epe/core/progress.h"
#include "epe/core/rng.h"
#include "epe/core/timer.h"
#include "epe/io/file_list.h"
#include "epe/io/folder_shards.h"
#include "epe/io/gbuffers.h"
#include "epe/io/image.h"
#include "epe/nn/convert.h"
#include "epe/nn/device.h"
#include "epe/nn/vgg16.h"

namespace fs = std::filesystem;

namespace epe {

const Choices<FakeGBufferProtocol>& fake_gbuffer_protocols() {
  static const Choices<FakeGBufferProtocol> c{{"reference", FakeGBufferProtocol::reference},
                                              {"epe", FakeGBufferProtocol::epe}};
  return c;
}

FakeGBufferResult make_fake_gbuffers(const FakeGBufferOptions& o, Progress* progress) {
  EPE_CHECK(o.channels >= 1 && 128 % o.channels == 0, "option --channels must divide 128 (relu2_2 has 128 channels)");
  EPE_CHECK(o.stats_frames >= 1, "option --stats-frames must be >= 1");
  const bool ref = o.protocol == FakeGBufferProtocol::reference;
  if (!o.shard.active()) check_output_path(o.out, o.force);  // a shard folder may be finished already
  const Timer t0;
  const FileList list = read_file_list(o.list, DatasetKind::synthetic);
  nn::Vgg16Options vo;
  vo.weights = o.vgg;
  vo.padding = ref ? nn::Padding::none : nn::Padding::zeros;
  nn::Vgg16 vgg(vo);
  const c10::Device dev = nn::parse_device(o.device);
  vgg.to(dev);
  if (vgg.random_init())
    log_warn("fake-gbuffers: VGG-16 has RANDOM weights (no --vgg); the stand-in G-buffers are random features");
  FakeGBufferResult r;
  auto read_row = [&](std::size_t i) {
    try {
      return read_image(list.rows[i].image());
    } catch (const UserError& e) {
      throw UserError(at_line(list.path, list.rows[i].line, e.what()));
    }
  };
  nn::Normalization norm = nn::Normalization::imagenet();
  if (ref) {
    // The dataset's statistics: mean over frames of per-frame channel means and (unbiased) stds.
    std::vector<std::int64_t> pick;
    if (static_cast<std::int64_t>(list.rows.size()) <= o.stats_frames) {
      for (std::size_t i = 0; i < list.rows.size(); ++i) pick.push_back(static_cast<std::int64_t>(i));
    } else {
      Rng rng(o.seed, 0xFA6EULL);
      pick = rng.sample_without_replacement(static_cast<std::int64_t>(list.rows.size()), o.stats_frames);
    }
    std::array<double, 3> m{0, 0, 0}, sd{0, 0, 0};
    for (std::int64_t i : pick) {
      const at::Tensor x = nn::image_to_tensor(read_row(static_cast<std::size_t>(i))).to(torch::kFloat64);
      const at::Tensor mu = x.mean({1, 2}), st = x.std({1, 2}, /*unbiased=*/true);
      for (int c = 0; c < 3; ++c) {
        m[static_cast<std::size_t>(c)] += mu[c].item<double>() / double(pick.size());
        sd[static_cast<std::size_t>(c)] += st[c].item<double>() / double(pick.size());
      }
    }
    for (int c = 0; c < 3; ++c)
      EPE_CHECK(sd[static_cast<std::size_t>(c)] > 0, "fake-gbuffers: channel ", c, " of '", o.list,
                "' has zero standard deviation over the frames; use --protocol epe (ImageNet statistics)");
    norm.mean = m;
    norm.std = sd;
  }
  r.provenance = cat("VGG-16 relu2_2 of ", vgg.provenance(), ", mean of ", 128 / o.channels, " channels, ",
                     ref ? cat("reference protocol (no padding, dataset mean ", format_number(norm.mean[0], "%.4f"),
                               " ", format_number(norm.mean[1], "%.4f"), " ", format_number(norm.mean[2], "%.4f"),
                               " std ", format_number(norm.std[0], "%.4f"), " ", format_number(norm.std[1], "%.4f"),
                               " ", format_number(norm.std[2], "%.4f"), ", bicubic)")
                         : std::string("epe protocol (zero padding, ImageNet statistics, bilinear)"));
  const std::string name = o.name.empty() ? fs::path(o.list).stem().string() + "-fake-gbuffers" : o.name;
  std::tie(r.row_begin, r.row_end) = o.shard.rows(static_cast<std::int64_t>(list.rows.size()));
  const FolderShardStart shard = start_folder_shard(
      "fake-gbuffers", o.list, static_cast<std::int64_t>(list.rows.size()), o.shard, name,
      [&] {
        return cat("channels = ", o.channels, "\nprotocol = ", choice_name(fake_gbuffer_protocols(), o.protocol),
                   "\nstats-frames = ", o.stats_frames, "\nseed = ", o.seed, "\nprovenance = ", r.provenance, "\n");
      },
      o.out, o.force);
  if (shard.already_complete) {
    r.already_complete = true;
    r.list = shard.list;
    return r;
  }
  AtomicDir dir(o.out, o.force);
  const fs::path tmp = dir.temp_path();
  fs::create_directories(tmp / "gbuffers");
  if (progress) progress->set_total(r.row_end - r.row_begin);
  const int tap = nn::vgg16_tap_index("relu2_2");
  std::vector<std::vector<std::string>> rows;
  torch::NoGradGuard no_grad;
  for (std::size_t i = static_cast<std::size_t>(r.row_begin); i < static_cast<std::size_t>(r.row_end); ++i) {
    const ListRow& row = list.rows[i];
    const cv::Mat img = read_row(i);
    // relu2_2 without padding: 2 + 2 + 2x pooling + 2 + 2 pixels lost per side pair.
    EPE_CHECK(!ref || (img.rows >= 14 && img.cols >= 14),
              at_line(list.path, row.line,
                      cat("the frame is ", img.cols, "x", img.rows,
                          "; VGG-16 without padding needs at least 14x14 (or --protocol epe)")));
    const at::Tensor x = nn::image_to_tensor(img).unsqueeze(0);
    at::Tensor f = vgg.forward(nn::normalize(x, norm).to(dev), tap);
    f = f.reshape({1, o.channels, 128 / o.channels, f.size(2), f.size(3)}).mean(2);
    namespace F = torch::nn::functional;
    f = F::interpolate(f, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{img.rows, img.cols})
                              .mode(ref ? torch::nn::functional::InterpolateFuncOptions::mode_t(torch::kBicubic)
                                        : torch::nn::functional::InterpolateFuncOptions::mode_t(torch::kBilinear))
                              .align_corners(false));
    const at::Tensor hwc = f[0].permute({1, 2, 0}).to(torch::kCPU).contiguous();
    GBuffers g;
    g.height = img.rows;
    g.width = img.cols;
    g.channels = o.channels;
    g.data.assign(hwc.data_ptr<float>(), hwc.data_ptr<float>() + hwc.numel());
    for (int k = 0; k < o.channels; ++k) g.names.push_back(cat("fake-vgg-relu2_2.", k));
    char file[32];
    std::snprintf(file, sizeof file, "%06zu.h5", i);
    write_gbuffers((tmp / "gbuffers" / file).string(), g);
    std::vector<std::string> fields = row.fields;
    for (auto& fl : fields)
      if (!fl.empty()) fl = fs::absolute(fl).lexically_normal().string();
    fields[2] = fs::absolute(tmp / "gbuffers" / file).string();
    rows.push_back(fields);
    if (progress) progress->add(1);
  }
  write_file_list((tmp / (name + ".csv")).string(), rows, list.format);
  if (o.shard.active()) write_file_atomic(folder_shard_file(tmp.string()), shard.shard.text());
  dir.commit();
  r.frames = static_cast<std::int64_t>(rows.size());
  r.list = (fs::path(o.out) / (name + ".csv")).string();
  r.seconds = t0.seconds();
  return r;
}

}  // namespace epe
