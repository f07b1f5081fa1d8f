#include "epe/crops/embed.h"

#include <torch/torch.h>

#include "epe/core/error.h"
#include "epe/nn/vgg16.h"

namespace epe {

namespace {
constexpr int kRelu53 = 12;
}

at::Tensor embed_crops(nn::Vgg16& net, const at::Tensor& crops) {
  EPE_ASSERT(net.padding() == nn::Padding::none, "embed_crops needs valid padding");
  return net.forward(crops, kRelu53).mean({2, 3});
}

at::Tensor embed_grid(nn::Vgg16& net, const at::Tensor& frames, int crop_size) {
  EPE_ASSERT(net.padding() == nn::Padding::none, "embed_grid needs valid padding");
  EPE_ASSERT(crop_size >= 196 && (crop_size - 196) % 16 == 0, "embed_grid: crop size ", crop_size, " is not 196 + 16k");
  const int k = (crop_size - 196) / 16;
  const int64_t rows = (frames.size(2) - crop_size) / 16 + 1, cols = (frames.size(3) - crop_size) / 16 + 1;
  EPE_ASSERT(rows >= 1 && cols >= 1, "embed_grid: frame smaller than the crop");
  at::Tensor y = net.forward(frames, kRelu53);  // [F, 512, R', C']
  if (k > 0) y = torch::avg_pool2d(y, k + 1, 1);
  EPE_ASSERT(y.size(2) >= rows && y.size(3) >= cols, "embed_grid: relu5_3 map ", y.size(2), "x", y.size(3),
             " smaller than the ", rows, "x", cols, " grid");
  return y.slice(2, 0, rows).slice(3, 0, cols).permute({0, 2, 3, 1});
}

}  // namespace epe
