#pragma once
// The two ways `epe crops` turns pixels into relu5_3 crop embeddings (docs/DESIGN.md §5.2), exposed
// for tests and benchmarks. Inputs are normalised images on the network's device; the network
// must use Padding::none.

#include <ATen/core/Tensor.h>

namespace epe {
namespace nn {
class Vgg16;
}

// crops: [B, 3, S, S] -> [B, 512]: the mean over each crop's relu5_3 map (for S = 196 the map
// is 1x1 and this is the unit itself).
at::Tensor embed_crops(nn::Vgg16& net, const at::Tensor& crops);

// frames: [F, 3, H, W] -> [F, R, C, 512] with R = (H - S) / 16 + 1, C = (W - S) / 16 + 1:
// entry (i, j) is the embedding of the S x S crop with top-left (16 i, 16 j), equal to
// embed_crops() of that crop. S = 196 + 16 k (k >= 0): (k+1)x(k+1) windows of relu5_3 averaged.
at::Tensor embed_grid(nn::Vgg16& net, const at::Tensor& frames, int crop_size);

}  // namespace epe
