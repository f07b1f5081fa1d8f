#include "epe/nn/vgg16.h"

#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/options.h"
#include "epe/core/rng.h"
#include "epe/core/sha256.h"
#include "epe/io/h5.h"
#include "epe/nn/torch_pickle.h"

namespace epe::nn {

namespace {

constexpr int kConvIndex[13] = {0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28};
constexpr int kIn[13] = {3, 64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512};
constexpr int kOut[13] = {64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512};
// A 2x2 max-pool follows these convolutions (the last of each block).
bool pool_after(int layer) {
  return layer == 1 || layer == 3 || layer == 6 || layer == 9 || layer == 12;
}

std::string shape_text(at::IntArrayRef s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  return o.str() + "]";
}

StateDict read_torch(const std::string& path) {
  StateDict sd;
  sd.tensors = read_torch_state_dict(path);
  return sd;
}

StateDict read_h5_weights(const std::string& path) {
  std::lock_guard<std::mutex> lock(h5::h5_mutex());
  H5::H5File f = h5::open_store(path, "weights", 1);
  StateDict sd;
  try {
    for (hsize_t i = 0; i < f.getNumObjs(); ++i) {
      std::string name = f.getObjnameByIdx(i);
      if (f.childObjType(name) != H5O_TYPE_DATASET) continue;
      std::vector<hsize_t> dims;
      std::vector<float> data = h5::read<float>(f, name, &dims);
      std::vector<int64_t> sizes(dims.begin(), dims.end());
      sd.tensors[name] = torch::from_blob(data.data(), sizes, torch::kFloat).clone();
    }
  } catch (const H5::Exception& e) {
    throw UserError(cat("weights file '", path, "' is damaged: ", e.getDetailMsg()));
  }
  return sd;
}

}  // namespace

Padding parse_padding(const std::string& s, const std::string& option) {
  if (s == "none") return Padding::none;
  if (s == "zeros") return Padding::zeros;
  if (s == "replicate") return Padding::replicate;
  throw UserError(cat("option ", option, ": '", s, "' is not a padding mode (none, zeros or replicate)"));
}

const char* to_string(Padding p) {
  switch (p) {
    case Padding::none:
      return "none";
    case Padding::zeros:
      return "zeros";
    case Padding::replicate:
      return "replicate";
  }
  return "?";
}

const std::vector<std::string>& vgg16_taps() {
  static const std::vector<std::string> t = {"relu1_1", "relu1_2", "relu2_1", "relu2_2", "relu3_1",
                                             "relu3_2", "relu3_3", "relu4_1", "relu4_2", "relu4_3",
                                             "relu5_1", "relu5_2", "relu5_3"};
  return t;
}

int vgg16_tap_index(const std::string& name) {
  const auto& t = vgg16_taps();
  for (size_t i = 0; i < t.size(); ++i)
    if (t[i] == name) return static_cast<int>(i);
  throw UserError(cat("unknown VGG-16 tap '", name, "' (one of ", join(t, ", "), ")"));
}

const std::vector<std::string>& vgg16_keys() {
  static const std::vector<std::string> k = [] {
    std::vector<std::string> v;
    for (int i : kConvIndex) {
      v.push_back(cat("features.", i, ".weight"));
      v.push_back(cat("features.", i, ".bias"));
    }
    return v;
  }();
  return k;
}

at::Tensor normalize(const at::Tensor& x, const Normalization& n) {
  EPE_ASSERT(x.dim() == 3 || x.dim() == 4, "normalize: expected [N,3,H,W] or [3,H,W]");
  const int64_t c = x.dim() - 3;
  EPE_ASSERT(x.size(c) == 3, "normalize: expected 3 channels");
  std::vector<int64_t> view(x.dim(), 1);
  view[c] = 3;
  auto opts = torch::TensorOptions().dtype(x.scalar_type()).device(x.device());
  at::Tensor mean = torch::tensor({n.mean[0], n.mean[1], n.mean[2]}, torch::kDouble).to(opts).view(view);
  // Divide (not multiply by the reciprocal) to match torchvision's (x - mean) / std bit for bit.
  at::Tensor std = torch::tensor({n.std[0], n.std[1], n.std[2]}, torch::kDouble).to(opts).view(view);
  return (x - mean) / std;
}

StateDict read_state_dict(const std::string& path) {
  std::error_code ec;
  EPE_CHECK(std::filesystem::is_regular_file(path, ec), "weights file '", path, "' does not exist");
  unsigned char magic[8] = {0};
  {
    std::ifstream in(path, std::ios::binary);
    EPE_CHECK(in, "cannot read weights file '", path, "'");
    in.read(reinterpret_cast<char*>(magic), sizeof magic);
  }
  StateDict sd;
  if (std::memcmp(magic, "PK\x03\x04", 4) == 0) {
    sd = read_torch(path);
  } else if (std::memcmp(magic, "\x89HDF\r\n\x1a\n", 8) == 0) {
    sd = read_h5_weights(path);
  } else if (is_legacy_torch_file(magic, sizeof magic)) {
    sd = read_torch(path);  // the same reader: it tells the formats apart
  } else if (magic[0] == 0x80 && magic[1] >= 2 && magic[1] <= 5) {
    throw UserError(cat("weights file '", path,
                        "' is a Python pickle but not one written by torch.save (no PyTorch magic number); save "
                        "the state dict with torch.save(model.state_dict(), path)"));
  } else {
    throw UserError(cat("weights file '", path,
                        "' is neither a PyTorch state dict saved with torch.save (zip format) nor an epe HDF5 "
                        "weights file"));
  }
  sd.provenance = cat(std::filesystem::path(path).filename().string(), " sha256:", sha256_file(path));
  return sd;
}

void write_state_dict_h5(const std::string& path, const std::map<std::string, at::Tensor>& tensors) {
  AtomicFile out(path);
  {
    std::lock_guard<std::mutex> lock(h5::h5_mutex());
    H5::H5File f = h5::create_file(out.temp_path());
    h5::write_store_header(f, "weights", 1, "", "");
    for (const auto& [key, t] : tensors) {
      EPE_CHECK(key.find('/') == std::string::npos, "weight key '", key, "' contains '/'");
      at::Tensor c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
      std::vector<hsize_t> dims(c.sizes().begin(), c.sizes().end());
      h5::write<float>(f, key, c.data_ptr<float>(), dims);
    }
  }
  out.commit();
}

Vgg16::Vgg16(const Vgg16Options& options) : padding_(options.padding) {
  for (int l = 0; l < 13; ++l) {
    // Torchvision's initialisation: Kaiming normal, mode fan_out, ReLU gain; zero bias.
    const double stddev = std::sqrt(2.0 / (kOut[l] * 9.0));
    Rng rng(options.seed, static_cast<std::uint64_t>(l));
    at::Tensor w = torch::empty({kOut[l], kIn[l], 3, 3}, torch::kFloat);
    float* p = w.data_ptr<float>();
    for (int64_t i = 0; i < w.numel(); ++i) p[i] = static_cast<float>(rng.normal(0.0, stddev));
    weight_.push_back(register_parameter(cat("conv", l, "_weight"), w, /*requires_grad=*/false));
    bias_.push_back(register_parameter(cat("conv", l, "_bias"), torch::zeros({kOut[l]}), false));
  }
  random_init_ = true;
  provenance_ = cat("random-init(seed=", options.seed, ")");
  if (!options.weights.empty()) load(read_state_dict(options.weights));
  eval();
}

void Vgg16::load(const StateDict& sd) {
  torch::NoGradGuard no_grad;
  const std::string file = sd.provenance.substr(0, sd.provenance.find(" sha256:"));
  for (int l = 0; l < 13; ++l) {
    for (int b = 0; b < 2; ++b) {
      const std::string& key = vgg16_keys()[2 * l + b];
      at::Tensor& dst = b ? bias_[l] : weight_[l];
      auto it = sd.tensors.find(key);
      EPE_CHECK(it != sd.tensors.end(), "weights file '", file, "' has no tensor '", key,
                "' (expected torchvision's vgg16 keys features.N.weight/bias; it has ", sd.tensors.size(), " tensors",
                sd.tensors.empty() ? "" : cat(", e.g. '", sd.tensors.begin()->first, "'"), ")");
      EPE_CHECK(it->second.sizes() == dst.sizes(), "weights file '", file, "': tensor '", key, "' has shape ",
                shape_text(it->second.sizes()), ", expected ", shape_text(dst.sizes()));
      dst.copy_(it->second.to(dst.device(), dst.scalar_type()));
    }
  }
  random_init_ = false;
  provenance_ = sd.provenance;
}

std::vector<at::Tensor> Vgg16::forward(const at::Tensor& x, const std::vector<int>& taps) {
  EPE_ASSERT(x.dim() == 4 && x.size(1) == 3, "Vgg16::forward: expected [N, 3, H, W], got ", shape_text(x.sizes()));
  int deepest = -1;
  for (int t : taps) {
    EPE_ASSERT(t >= 0 && t < 13, "Vgg16::forward: tap index ", t, " out of range");
    deepest = std::max(deepest, t);
  }
  std::vector<at::Tensor> out(taps.size());
  at::Tensor h = x;
  for (int l = 0; l <= deepest; ++l) {
    if (padding_ == Padding::replicate) {
      h = torch::replication_pad2d(h, {1, 1, 1, 1});
      h = torch::conv2d(h, weight_[l], bias_[l]);
    } else {
      h = torch::conv2d(h, weight_[l], bias_[l], /*stride=*/1, /*padding=*/padding_ == Padding::zeros ? 1 : 0);
    }
    h = torch::relu_(h);  // in place, as torchvision (ReLU(inplace=True)); autograd allows it after conv
    for (size_t i = 0; i < taps.size(); ++i)
      if (taps[i] == l) out[i] = h;
    if (pool_after(l) && l < deepest) h = torch::max_pool2d(h, 2, 2);
  }
  return out;
}

int Vgg16::valid_output_size(int in, int tap) {
  int s = in;
  for (int l = 0; l <= tap; ++l) {
    s -= 2;
    if (s <= 0) return 0;
    if (pool_after(l) && l < tap) s /= 2;
  }
  return s;
}

}  // namespace epe::nn
