#include "epe/train/fake_gbuffers.h"

#include <torch/torch.h>

#include <chrono>
#include <filesystem>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/log.h"
#include "epe/core/progress.h"
#include "epe/io/file_list.h"
#include "epe/io/gbuffers.h"
#include "epe/io/image.h"
#include "epe/nn/device.h"
#include "epe/nn/vgg16.h"
#include "epe/nn/convert.h"

namespace fs = std::filesystem;

namespace epe {

FakeGBufferResult make_fake_gbuffers(const FakeGBufferOptions& o, Progress* progress) {
  EPE_CHECK(o.channels >= 1 && 128 % o.channels == 0, "option --channels must divide 128 (relu2_2 has 128 channels)");
  check_output_path(o.out, o.force);
  const auto t0 = std::chrono::steady_clock::now();
  const FileList list = read_file_list(o.list, DatasetKind::synthetic);
  nn::Vgg16Options vo;
  vo.weights = o.vgg;
  vo.padding = nn::Padding::zeros;
  nn::Vgg16 vgg(vo);
  const c10::Device dev = nn::parse_device(o.device);
  vgg.to(dev);
  if (vgg.random_init())
    log_warn("fake-gbuffers: VGG-16 has RANDOM weights (no --vgg); the stand-in G-buffers are random features");
  FakeGBufferResult r;
  r.provenance = cat("VGG-16 relu2_2 of ", vgg.provenance(), ", mean of ", 128 / o.channels, " channels");
  const std::string name = o.name.empty() ? fs::path(o.list).stem().string() + "-fake-gbuffers" : o.name;
  AtomicDir dir(o.out, o.force);
  const fs::path tmp = dir.temp_path();
  fs::create_directories(tmp / "gbuffers");
  if (progress) progress->set_total(static_cast<std::int64_t>(list.rows.size()));
  const int tap = nn::vgg16_tap_index("relu2_2");
  std::vector<std::vector<std::string>> rows;
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < list.rows.size(); ++i) {
    const ListRow& row = list.rows[i];
    cv::Mat img;
    try {
      img = read_image(row.image());
    } catch (const UserError& e) {
      throw UserError(at_line(list.path, row.line, e.what()));
    }
    const at::Tensor x = nn::image_to_tensor(img).unsqueeze(0);
    at::Tensor f = vgg.forward(nn::normalize(x, nn::Normalization::imagenet()).to(dev), tap);
    f = f.reshape({1, o.channels, 128 / o.channels, f.size(2), f.size(3)}).mean(2);
    namespace F = torch::nn::functional;
    f = F::interpolate(f, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{img.rows, img.cols})
                              .mode(torch::kBilinear)
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
  dir.commit();
  r.frames = static_cast<std::int64_t>(rows.size());
  r.list = (fs::path(o.out) / (name + ".csv")).string();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace epe
