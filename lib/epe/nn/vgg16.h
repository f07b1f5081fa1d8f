#pragma once
// VGG-16 as torchvision's `vgg16().features` (docs/DESIGN.md §5.1): 13 conv3x3+ReLU in five blocks
// (2, 2, 3, 3, 3), max-pool 2x2/2 after each block. Weights come from a state dict written by
// `torch.save` (zip or legacy format; keys features.{0,2,5,7,10,12,14,17,19,21,24,26,28}.{weight,bias},
// other keys such as classifier.* ignored) or from an epe HDF5 weights file; without weights
// the network is initialised from a seed (torchvision's rule: Kaiming normal, fan_out, zero
// bias) and provenance() says `random-init(seed=S)`.
//
// The module is a torch::nn::Module whose parameters never require gradients; gradients
// flow to the input, so LPIPS and the discriminator can back-propagate through it.

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace epe::nn {

enum class Padding { none, zeros, replicate };
// "none" | "zeros" | "replicate"; UserError naming `option` otherwise.
Padding parse_padding(const std::string& s, const std::string& option = "--padding");
const char* to_string(Padding p);

// The 13 taps in network order: relu1_1, relu1_2, relu2_1, ..., relu5_3.
const std::vector<std::string>& vgg16_taps();
// Index of a tap name in vgg16_taps(); UserError listing the names otherwise.
int vgg16_tap_index(const std::string& name);
// The state-dict keys the network needs, in order (26 keys).
const std::vector<std::string>& vgg16_keys();

// Input normalisation (x - mean) / std per RGB channel, x in [0, 1].
struct Normalization {
  std::array<double, 3> mean{0.485, 0.456, 0.406};  // ImageNet (torchvision)
  std::array<double, 3> std{0.229, 0.224, 0.225};
  static Normalization imagenet() { return {}; }
};
// x: [N, 3, H, W] or [3, H, W] float in [0, 1] -> normalised copy, same shape and device.
at::Tensor normalize(const at::Tensor& x, const Normalization& n);

// A set of named tensors read from a weights file.
struct StateDict {
  std::map<std::string, at::Tensor> tensors;
  std::string provenance;  // "<file name> sha256:<hex>"
};
// Reads a `torch.save` state dict (zip or legacy format) or an epe HDF5 weights file (format
// "weights"). UserError naming the file for: a missing file; a pickle not written by
// torch.save; a TorchScript archive or any other content; a damaged or truncated file.
StateDict read_state_dict(const std::string& path);
// Writes tensors as an epe HDF5 weights file (float32 datasets named by key), atomically.
void write_state_dict_h5(const std::string& path, const std::map<std::string, at::Tensor>& tensors);

struct Vgg16Options {
  std::string weights;     // weights file; empty = seeded random initialisation
  std::uint64_t seed = 0;  // seed of the random initialisation
  Padding padding = Padding::zeros;
};

class Vgg16 : public torch::nn::Module {
 public:
  explicit Vgg16(const Vgg16Options& options);

  // Copies the 26 tensors from `sd` (extra keys ignored). UserError naming the file, the key
  // and both shapes on a missing key or a shape mismatch.
  void load(const StateDict& sd);

  // x: [N, 3, H, W] normalised input on the module's device and dtype. Returns the requested
  // taps (indices into vgg16_taps()) in the order asked, each [N, C, h, w]; runs the network
  // only as deep as the deepest tap. With Padding::none each conv shrinks the map by 2.
  std::vector<at::Tensor> forward(const at::Tensor& x, const std::vector<int>& taps);
  at::Tensor forward(const at::Tensor& x, int tap) { return forward(x, std::vector<int>{tap}).front(); }

  Padding padding() const { return padding_; }
  void set_padding(Padding p) { padding_ = p; }
  // "<file> sha256:<hex>" or "random-init(seed=S)".
  const std::string& provenance() const { return provenance_; }
  bool random_init() const { return random_init_; }

  // Output side of tap `tap` for an input side `in` with valid padding (Padding::none);
  // <= 0 when the input is too small.
  static int valid_output_size(int in, int tap);

 private:
  std::vector<at::Tensor> weight_, bias_;  // 13 convolutions
  Padding padding_;
  std::string provenance_;
  bool random_init_ = false;
};

}  // namespace epe::nn
