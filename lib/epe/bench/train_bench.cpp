#include "epe/bench/train_bench.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include "epe/core/error.h"
#include "epe/core/timer.h"
#include "epe/demo/demo_data.h"
#include "epe/nn/device.h"
#include "epe/nn/generator.h"
#include "epe/runtime/runtime.h"

namespace epe {

const Choices<BenchMaterials>& bench_materials() {
  static const Choices<BenchMaterials> c{{"demo", BenchMaterials::demo}, {"uniform", BenchMaterials::uniform}};
  return c;
}

GeneratorBenchResult bench_generator(const GeneratorBenchOptions& o) {
  EPE_CHECK(o.size >= 16 && o.iterations >= 1, "bench generator: --size >= 16 and --iterations >= 1");
  const c10::Device dev = nn::parse_device(o.device);
  const c10::ScalarType precision = nn::parse_precision(o.precision, dev);
  torch::manual_seed(0);
  int r_classes = -1;  // materials present (demo maps)
  nn::Generator g(nn::GeneratorConfig::preset(o.preset));
  g.to(dev);
  g.set_sparse_class_encoders(!o.dense);
  const auto& c = g.config();
  const at::Tensor x = torch::rand({1, 3, o.size, o.size}).to(dev);
  const at::Tensor gb = torch::randn({1, c.gbuffer_channels, o.size, o.size}).to(dev);
  at::Tensor cls;
  if (o.classes == BenchMaterials::uniform) {
    cls = (torch::ones({1, c.num_classes, o.size, o.size}) / c.num_classes).to(dev);
  } else {  // a street scene's material map: the centre crop of a rendered demo frame
    const DemoFrame f = render_demo_frame(false, 0, std::max(526, o.size), std::max(957, o.size), 0);
    const int r0 = (f.gt_labels.rows - o.size) / 2, c0 = (f.gt_labels.cols - o.size) / 2;
    at::Tensor m = torch::empty({o.size, o.size}, torch::kInt64);
    for (int r = 0; r < o.size; ++r)
      for (int q = 0; q < o.size; ++q)
        m[r][q] =
            std::min(c.num_classes - 1, demo_material_table().of_id[f.gt_labels.at<std::uint8_t>(r0 + r, c0 + q)]);
    cls = torch::one_hot(m, c.num_classes).permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat32).to(dev);
    r_classes = 0;
    for (int k = 0; k < c.num_classes; ++k) r_classes += cls[0][k].sum().item<double>() > 0;
  }
  const bool autocast = dev.is_cuda() && precision != torch::kFloat32;
  if (autocast) {
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(precision);
  }
  auto pass = [&] {
    g.zero_grad();
    g.forward(x, gb, cls).to(torch::kFloat32).mean().backward();
    if (dev.is_cuda()) torch::cuda::synchronize();
  };
  pass();  // warm-up
  const Timer t0;
  for (int i = 0; i < o.iterations; ++i) pass();
  const double s = t0.seconds();
  if (autocast) at::autocast::set_enabled(false);
  GeneratorBenchResult r;
  r.parameters = g.parameter_count();
  r.seconds_per_pass = s / o.iterations;
  r.steps_per_second = 1.0 / r.seconds_per_pass;
  r.peak_rss_bytes = peak_rss_bytes();
  r.classes_present = r_classes;
  return r;
}

}  // namespace epe
