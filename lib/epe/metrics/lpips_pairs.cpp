#include "epe/metrics/lpips_pairs.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/progress.h"
#include "epe/io/image.h"
#include "epe/io/image_set.h"
#include "epe/metrics/features.h"
#include "epe/metrics/kernel.h"
#include "epe/nn/convert.h"
#include "epe/nn/device.h"
#include "epe/nn/lpips.h"

namespace fs = std::filesystem;

namespace epe {

LpipsPairsResult lpips_pairs(const LpipsPairsOptions& o, Progress* progress) {
  EPE_CHECK(!o.a.empty() && !o.b.empty(), "epe lpips needs two images or two lists");
  if (!o.out.empty()) check_output_path(o.out, o.force);
  LpipsPairsResult r;
  std::vector<std::string> wa, wb;  // where, for messages
  if (is_image_file(o.a) || is_image_file(o.b)) {
    EPE_CHECK(is_image_file(o.a) && is_image_file(o.b), "epe lpips: give two images or two lists, not one of each");
    r.a = {o.a};
    r.b = {o.b};
    wa = {o.a};
    wb = {o.b};
  } else {
    const ImageSet a = read_image_set(o.a), b = read_image_set(o.b);
    EPE_CHECK(a.images.size() == b.images.size(), "epe lpips: '", o.a, "' has ", a.images.size(), " frames but '", o.b,
              "' has ", b.images.size(), "; pairs are taken row by row");
    r.a = a.images;
    r.b = b.images;
    for (std::size_t i = 0; i < a.images.size(); ++i) {
      wa.push_back(a.where(i));
      wb.push_back(b.where(i));
    }
  }
  nn::LpipsOptions lo;
  lo.vgg = o.vgg;
  lo.lin = o.lin;
  lo.seed = o.seed;
  nn::Lpips net(lo);
  const c10::Device dev = nn::parse_device(o.device);
  net.to(dev);
  r.provenance = net.provenance();
  r.random_vgg = net.random_vgg();
  torch::NoGradGuard no_grad;
  if (progress) progress->set_total(static_cast<std::int64_t>(r.a.size()));
  for (std::size_t i = 0; i < r.a.size(); ++i) {
    cv::Mat x, y;
    try {
      x = read_image(r.a[i]);
    } catch (const UserError& e) {
      throw UserError(cat(wa[i], ": ", e.what()));
    }
    try {
      y = read_image(r.b[i]);
    } catch (const UserError& e) {
      throw UserError(cat(wb[i], ": ", e.what()));
    }
    EPE_CHECK(x.size() == y.size(), wb[i], ": '", r.b[i], "' is ", y.rows, "x", y.cols, " but '", r.a[i], "' is ",
              x.rows, "x", x.cols, " (LPIPS compares images of the same size)");
    r.distance.push_back(
        net.forward(nn::image_to_tensor(x).unsqueeze(0).to(dev), nn::image_to_tensor(y).unsqueeze(0).to(dev))
            .item<double>());
    if (progress) progress->add(1);
  }
  const MeanStd m = mean_std(r.distance);
  r.mean = m.mean;
  r.std = m.std;
  if (!o.out.empty()) {
    std::string csv = "a,b,lpips\n";
    char buf[64];
    for (std::size_t i = 0; i < r.distance.size(); ++i) {
      std::snprintf(buf, sizeof buf, "%.9g", r.distance[i]);
      csv += r.a[i] + "," + r.b[i] + "," + buf + "\n";
    }
    write_file_atomic(o.out, csv);
  }
  return r;
}

}  // namespace epe
