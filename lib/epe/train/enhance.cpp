// `epe enhance`: full frames through a trained generator (train.h), whole or in tiles.

#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <tuple>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/sha256.h"
#include "epe/core/timer.h"
#include "epe/io/file_list.h"
#include "epe/io/folder_shards.h"
#include "epe/io/gbuffers.h"
#include "epe/io/image.h"
#include "epe/io/labels.h"
#include "epe/nn/convert.h"
#include "epe/nn/device.h"
#include "epe/train/checkpoint.h"
#include "epe/train/train.h"

namespace fs = std::filesystem;

namespace epe {

EnhanceResult enhance(const EnhanceOptions& o) {
  EPE_CHECK(!o.checkpoint.empty() && !o.list.empty() && !o.out.empty(), "enhance needs --checkpoint, --list and --out");
  EPE_CHECK(o.tile == 0 || o.tile > 2 * o.overlap, "option --tile must be larger than twice --overlap");
  if (!o.shard.active()) check_output_path(o.out, o.force);
  const Timer t0;
  const std::string ck = resolve_checkpoint(o.checkpoint);
  torch::serialize::InputArchive a = open_checkpoint(ck);
  const nn::GeneratorConfig gc = nn::GeneratorConfig::from_ini(read_string(a, "generator_config"));
  nn::Generator g(gc);
  torch::serialize::InputArchive ag;
  a.read("generator", ag);
  g.load(ag);
  const c10::Device dev = nn::parse_device(o.device);
  g.to(dev);
  g.eval();
  const FileList list = read_file_list(o.list, DatasetKind::synthetic);
  const MaterialTable mt = MaterialTable::read(material_table_for(o.materials, list));
  EPE_CHECK(static_cast<int>(mt.names.size()) == gc.num_classes, "the material table has ", mt.names.size(),
            " materials but the checkpoint's generator expects ", gc.num_classes);
  const std::string name = o.name.empty() ? fs::path(o.list).stem().string() + "-enhanced" : o.name;
  EnhanceResult r;
  r.generator = ck;
  std::tie(r.row_begin, r.row_end) = o.shard.rows(static_cast<std::int64_t>(list.rows.size()));
  const FolderShardStart shard = start_folder_shard(
      "enhance", o.list, static_cast<std::int64_t>(list.rows.size()), o.shard, name,
      [&] {
        return cat("checkpoint = ", fs::absolute(ck).lexically_normal().string(),
                   "\ncheckpoint_sha256 = ", sha256_file(ck), "\nmaterials = ", o.materials, "\ntile = ", o.tile,
                   "\noverlap = ", o.overlap, "\n");
      },
      o.out, o.force);
  if (shard.already_complete) {
    r.already_complete = true;
    r.list = shard.list;
    return r;
  }
  AtomicDir dir(o.out, o.force);
  const fs::path tmp = dir.temp_path();
  fs::create_directories(tmp / "images");
  std::vector<std::vector<std::string>> rows;
  torch::NoGradGuard no_grad;
  for (std::size_t i = static_cast<std::size_t>(r.row_begin); i < static_cast<std::size_t>(r.row_end); ++i) {
    const ListRow& row = list.rows[i];
    at::Tensor x, gb, cls;
    try {
      const cv::Mat img = read_image(row.image());
      x = nn::image_to_tensor(img).unsqueeze(0);
      EPE_CHECK(!row.gbuffers().empty(), "no G-buffers in this row (run `epe gbuffers pack` or `epe fake-gbuffers`)");
      const GBuffers g_ = read_gbuffers(row.gbuffers());
      EPE_CHECK(g_.channels == gc.gbuffer_channels, "G-buffers '", row.gbuffers(), "' have ", g_.channels,
                " channels, the generator expects ", gc.gbuffer_channels);
      EPE_CHECK(g_.height == img.rows && g_.width == img.cols, "G-buffers '", row.gbuffers(),
                "' are not the image's size");
      gb = nn::hwc_to_tensor(g_.data.data(), g_.height, g_.width, g_.channels).unsqueeze(0);
      const cv::Mat gt = read_label_map(row.gt_labels(), 255, true, list.format.gt);
      check_same_size(gt, row.gt_labels(), img.rows, img.cols, row.image());
      cls = material_one_hot(mt, gt).unsqueeze(0);
    } catch (const UserError& e) {
      throw UserError(at_line(list.path, row.line, e.what()));
    }
    const int H = static_cast<int>(x.size(2)), W = static_cast<int>(x.size(3));
    at::Tensor y;
    if (o.tile == 0 || (H <= o.tile && W <= o.tile)) {
      y = g.forward(x.to(dev), gb.to(dev), cls.to(dev)).to(torch::kCPU);
    } else {
      y = torch::empty_like(x);
      const int core = o.tile - 2 * o.overlap;
      for (int r0 = 0; r0 < H; r0 += core)
        for (int c0 = 0; c0 < W; c0 += core) {
          const int r1 = std::min(H, r0 + core), c1 = std::min(W, c0 + core);
          const int a0 = std::max(0, r0 - o.overlap), a1 = std::min(H, r1 + o.overlap);
          const int b0 = std::max(0, c0 - o.overlap), b1 = std::min(W, c1 + o.overlap);
          auto cut = [&](const at::Tensor& t) { return t.slice(2, a0, a1).slice(3, b0, b1).to(dev); };
          const at::Tensor t = g.forward(cut(x), cut(gb), cut(cls)).to(torch::kCPU);
          y.slice(2, r0, r1).slice(3, c0, c1).copy_(t.slice(2, r0 - a0, r1 - a0).slice(3, c0 - b0, c1 - b0));
        }
    }
    char file[32];
    std::snprintf(file, sizeof file, "%06zu.png", i);
    write_png((tmp / "images" / file).string(), nn::tensor_to_image(y[0]));
    std::vector<std::string> fields = row.fields;
    fields[0] = fs::absolute(tmp / "images" / file).string();
    for (std::size_t k = 1; k < fields.size(); ++k)
      if (!fields[k].empty()) fields[k] = fs::absolute(fields[k]).lexically_normal().string();
    rows.push_back(fields);
  }
  write_file_list((tmp / (name + ".csv")).string(), rows, list.format);
  if (o.shard.active()) write_file_atomic(folder_shard_file(tmp.string()), shard.shard.text());
  dir.commit();
  r.frames = static_cast<std::int64_t>(rows.size());
  r.list = (fs::path(o.out) / (name + ".csv")).string();
  r.seconds = t0.seconds();
  r.frames_per_second = r.seconds > 0 ? double(r.frames) / r.seconds : 0.0;
  return r;
}

}  // namespace epe
