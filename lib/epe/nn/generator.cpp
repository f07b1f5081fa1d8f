#include "epe/nn/generator.h"

#include <torch/torch.h>

#include "epe/core/error.h"
#include "epe/nn/layers.h"

namespace epe::nn {

namespace F = torch::nn::functional;

std::int64_t count_parameters(const torch::nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

// ---- blocks ---------------------------------------------------------------------------------

namespace {

// Residual block with spectrally normalised 3x3 convolutions (replicate padding, bias) and ReLU:
// dims {a, b}: relu(relu(conv(x)) + x); dims {a, b, c}: relu(conv2(relu(conv1(x))) + down(x)),
// down = relu(conv(x)) when the stride or the channels change.
class SNResImpl : public torch::nn::Module {
 public:
  SNResImpl(std::vector<int> dims, int stride) {
    const int out = dims.back();
    conv1_ = register_module("conv1", PadConv(dims[0], dims[1], 3, stride, true, true));
    if (dims.size() == 3) conv2_ = register_module("conv2", PadConv(dims[1], dims[2], 3, 1, true, true));
    if (stride != 1 || dims[0] != out) down_ = register_module("down", PadConv(dims[0], out, 3, stride, true, true));
  }
  at::Tensor forward(const at::Tensor& x) {
    at::Tensor h = torch::relu(conv1_->forward(x));
    if (conv2_) h = conv2_->forward(h);
    const at::Tensor d = down_ ? torch::relu(down_->forward(x)) : x;
    return torch::relu(h + d);
  }

 private:
  PadConv conv1_{nullptr}, conv2_{nullptr}, down_{nullptr};
};
TORCH_MODULE(SNRes);

// Normalisation of a residual block: RAD / SPADE-style (G-buffer-conditioned) or plain.
class BlockNormImpl : public torch::nn::Module {
 public:
  BlockNormImpl(const GeneratorConfig& c, int channels, int g_in) : kind_(c.gbuffer_norm) {
    if (kind_ == GBufferNorm::plain) {
      norm_ = register_module("norm", Norm(c.other_norm, channels));
      return;
    }
    norm_ = register_module("norm", Norm(NormKind::group, channels, /*affine=*/false));
    const int d = c.gbuffer_dim;
    if (kind_ == GBufferNorm::rad) {
      for (int l = 0; l < c.gbuffer_layers; ++l) proc_->push_back(SNRes(std::vector<int>{l == 0 ? g_in : d, d}, 1));
    } else {
      proc_->push_back(PadConv(g_in, d, 3, 1, true, true));
      proc_->push_back(torch::nn::Functional([](const at::Tensor& t) { return torch::relu(t); }));
    }
    register_module("proc", proc_);
    scale_ = register_module("scale", torch::nn::Conv2d(torch::nn::Conv2dOptions(d, channels, 1)));
    shift_ = register_module("shift", torch::nn::Conv2d(torch::nn::Conv2dOptions(d, channels, 1)));
  }
  at::Tensor forward(const at::Tensor& x, const at::Tensor& g) {
    if (kind_ == GBufferNorm::plain) return norm_->forward(x);
    const at::Tensor e = proc_->forward(g);
    return norm_->forward(x) * scale_->forward(e) + shift_->forward(e);
  }

 private:
  GBufferNorm kind_;
  Norm norm_{nullptr};
  torch::nn::Sequential proc_;
  torch::nn::Conv2d scale_{nullptr}, shift_{nullptr};
};
TORCH_MODULE(BlockNorm);

class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(const GeneratorConfig& c, int channels, int g_in) {
    conv1_ = register_module("conv1", PadConv(channels, channels, 3, 1, false));
    norm1_ = register_module("norm1", BlockNorm(c, channels, g_in));
    conv2_ = register_module("conv2", PadConv(channels, channels, 3, 1, false));
    norm2_ = register_module("norm2", BlockNorm(c, channels, g_in));
  }
  at::Tensor forward(const at::Tensor& x, const at::Tensor& g) {
    at::Tensor h = norm1_->forward(conv1_->forward(x), g);
    h = norm2_->forward(conv2_->forward(torch::relu(h)), g);
    return torch::relu(h + x);
  }

 private:
  PadConv conv1_{nullptr}, conv2_{nullptr};
  BlockNorm norm1_{nullptr}, norm2_{nullptr};
};
TORCH_MODULE(BasicBlock);

// conv (+ norm) (+ activation) as one module.
class ConvNormActImpl : public torch::nn::Module {
 public:
  ConvNormActImpl(int in, int out, int k, int stride, bool bias, Pad pad, NormKind norm,
                  int act /*0 none, 1 relu, 2 lrelu*/)
      : act_(act) {
    conv_ = register_module("conv", PadConv(in, out, k, stride, bias, false, pad));
    norm_ = register_module("norm", Norm(norm, out));
  }
  at::Tensor forward(const at::Tensor& x) {
    at::Tensor h = norm_->forward(conv_->forward(x));
    if (act_ == 1) return torch::relu(h);
    if (act_ == 2) return torch::leaky_relu(h, 0.2);
    return h;
  }

 private:
  int act_;
  PadConv conv_{nullptr};
  Norm norm_{nullptr};
};
TORCH_MODULE(ConvNormAct);

// One HRNet stage: `n` branches of basic blocks, then fusion into n outputs.
class StageImpl : public torch::nn::Module {
 public:
  StageImpl(const GeneratorConfig& c, int n, const std::vector<int>& g_in) : n_(n) {
    for (int b = 0; b < n; ++b) {
      const int ch = c.base_channels << b;
      torch::nn::ModuleList blocks;
      for (int k = 0; k < c.blocks; ++k) blocks->push_back(BasicBlock(c, ch, g_in[b]));
      branches_.push_back(register_module(cat("branch", b), blocks));
    }
    for (int i = 0; i < n; ++i) {
      const int ci = c.base_channels << i;
      for (int j = 0; j < n; ++j) {
        const int cj = c.base_channels << j;
        torch::nn::Sequential f;
        if (j > i) {
          f->push_back(ConvNormAct(cj, ci, 1, 1, false, Pad::replicate, c.other_norm, 0));
        } else if (j < i) {
          for (int t = 0; t < i - j; ++t) {
            const bool last = t == i - j - 1;
            f->push_back(ConvNormAct(cj, last ? ci : cj, 3, 2, false, Pad::replicate, c.other_norm, last ? 0 : 1));
          }
        }
        fuse_.push_back(j == i ? torch::nn::Sequential(nullptr) : register_module(cat("fuse", i, "_", j), f));
      }
    }
  }
  std::vector<at::Tensor> forward(std::vector<at::Tensor> xs, const std::vector<at::Tensor>& gs) {
    for (int b = 0; b < n_; ++b)
      for (const auto& m : *branches_[b])
        xs[b] = m->as<BasicBlockImpl>()->forward(xs[b], gs.empty() ? at::Tensor() : gs[b]);
    std::vector<at::Tensor> out;
    for (int i = 0; i < n_; ++i) {
      // Summed from branch 0 up, as the reference's HighResolutionModule (the same rounding).
      at::Tensor y;
      for (int j = 0; j < n_; ++j) {
        at::Tensor t = j == i ? xs[i] : fuse_[i * n_ + j]->forward(xs[j]);
        if (j > i)
          t = F::interpolate(t, F::InterpolateFuncOptions()
                                    .size(std::vector<int64_t>{xs[i].size(2), xs[i].size(3)})
                                    .mode(torch::kBilinear)
                                    .align_corners(false));
        y = j == 0 ? t : y + t;
      }
      out.push_back(torch::relu(y));
    }
    return out;
  }

 private:
  int n_;
  std::vector<torch::nn::ModuleList> branches_;
  std::vector<torch::nn::Sequential> fuse_;
};
TORCH_MODULE(Stage);

// Per-class residual streams masked by the class maps, then one encoder per branch.
class GBufferEncoderImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kRadius = 4;
  bool sparse = true;
  explicit GBufferEncoderImpl(const GeneratorConfig& c) : gbuffer_dim_(c.gbuffer_dim) {
    const int d = c.gbuffer_dim, h = d / 2;
    for (int k = 0; k < c.num_classes; ++k) {
      torch::nn::Sequential s(SNRes(std::vector<int>{c.gbuffer_channels, h, h}, 1),
                              SNRes(std::vector<int>{h, h, d}, 1));
      classes_.push_back(register_module(cat("class", k), s));
    }
    for (int b = 0; b < c.num_stages; ++b) {
      torch::nn::Sequential s(SNRes(std::vector<int>{d, d, d}, b == 0 ? 1 : 2), SNRes(std::vector<int>{d, d, d}, 1));
      joint_.push_back(register_module(cat("branch", b), s));
    }
  }
  std::vector<at::Tensor> forward(const at::Tensor& g, const at::Tensor& classes) {
    at::Tensor f;
    const int64_t H = g.size(2), W = g.size(3);
    for (std::size_t k = 0; k < classes_.size(); ++k) {
      const at::Tensor m = classes.narrow(1, static_cast<int64_t>(k), 1);
      at::Tensor t;
      if (!sparse) {
        t = m * classes_[k]->forward(g);
      } else {
        // Only where the class is present: its pixels' bounding box grown by the encoder's
        // receptive radius (4 convolutions of 3x3), so every pixel with a non-zero mask sees
        // exactly what the full-frame computation gives it; other pixels are multiplied by 0.
        const at::Tensor any = (m != 0).any(0).squeeze(0);  // [H, W]
        const at::Tensor rows = any.any(1).nonzero(), cols = any.any(0).nonzero();
        if (rows.numel() == 0) {  // absent: contributes exactly 0
          if (is_training())      // keep spectral norm's state as a whole-frame pass would leave it
            for (const auto& m : classes_[k]->modules(/*include_self=*/false))
              if (auto* pc = m->as<PadConvImpl>()) pc->power_iteration();
          continue;
        }
        const int64_t r0 = std::max<int64_t>(0, rows.min().item<int64_t>() - kRadius);
        const int64_t r1 = std::min<int64_t>(H, rows.max().item<int64_t>() + 1 + kRadius);
        const int64_t c0 = std::max<int64_t>(0, cols.min().item<int64_t>() - kRadius);
        const int64_t c1 = std::min<int64_t>(W, cols.max().item<int64_t>() + 1 + kRadius);
        if (r0 == 0 && c0 == 0 && r1 == H && c1 == W) {
          t = m * classes_[k]->forward(g);
        } else {
          const at::Tensor sub = g.slice(2, r0, r1).slice(3, c0, c1);
          t = m.slice(2, r0, r1).slice(3, c0, c1) * classes_[k]->forward(sub);
          t = torch::constant_pad_nd(t, {c0, W - c1, r0, H - r1}, 0);
        }
      }
      f = f.defined() ? f + t : t;
    }
    if (!f.defined()) f = torch::zeros({g.size(0), gbuffer_dim_, H, W}, g.options());
    std::vector<at::Tensor> out;
    for (auto& j : joint_) {
      f = j->forward(f);
      out.push_back(f);
    }
    return out;
  }

 private:
  std::vector<torch::nn::Sequential> classes_, joint_;
  int gbuffer_dim_;
};
TORCH_MODULE(GBufferEncoder);

at::Tensor resize_to(const at::Tensor& x, const at::Tensor& like) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{like.size(2), like.size(3)})
                               .mode(torch::kBilinear)
                               .align_corners(false));
}

}  // namespace

class GeneratorImpl : public torch::nn::Module {
 public:
  explicit GeneratorImpl(const GeneratorConfig& c) : c_(c) {
    const int base = c.base_channels, S = c.num_stages;
    const int stem_in = c.encoder_type == EncoderType::concat ? 3 + c.gbuffer_channels + c.num_classes : 3;
    stem_ = register_module(
        "stem", torch::nn::Sequential(ConvNormAct(stem_in, base, 3, 1, false, Pad::replicate, c.stem_norm, 1),
                                      ConvNormAct(base, base, 3, 1, false, Pad::replicate, c.stem_norm, 1)));
    std::vector<int> g_in(S, c.gbuffer_dim);
    if (c.encoder_type == EncoderType::encoder) encoder_ = register_module("gbuffer_encoder", GBufferEncoder(c));
    if (c.encoder_type == EncoderType::spade) g_in.assign(S, c.gbuffer_channels + c.num_classes);
    torch::nn::ModuleList l1;
    for (int k = 0; k < c.blocks; ++k) l1->push_back(BasicBlock(c, base, g_in[0]));
    layer1_ = register_module("layer1", l1);
    for (int s = 2; s <= S; ++s) {
      transitions_.push_back(register_module(cat("transition", s), ConvNormAct(base << (s - 2), base << (s - 1), 3, 2,
                                                                               false, Pad::zeros, c.other_norm, 1)));
      stages_.push_back(register_module(cat("stage", s), Stage(c, s, g_in)));
    }
    for (int k = S - 1; k >= 1; --k) {  // coarse to fine: branch k merged into branch k - 1
      const int in = (base << k) + (base << (k - 1)), out = base << (k - 1);
      torch::nn::Sequential up(ConvNormAct(in, out, 3, 1, true, Pad::replicate, c.other_norm, 2));
      if (k == 1) up->push_back(PadConv(out, 3, 3, 1, true));
      up_.push_back(register_module(cat("up", S - 1 - k), up));
    }
    if (S == 1) up_.push_back(register_module("up0", torch::nn::Sequential(PadConv(base, 3, 3, 1, true))));
  }

  void set_sparse(bool on) {
    if (encoder_) encoder_->sparse = on;
  }
  void zero_output() {
    const torch::nn::Sequential& last = up_.back();
    auto* conv = last->ptr(last->size() - 1)->as<PadConvImpl>();
    EPE_ASSERT(conv != nullptr, "generator: the output layer is not a convolution");
    torch::NoGradGuard no_grad;
    conv->conv->weight.zero_();
    if (conv->conv->bias.defined()) conv->conv->bias.zero_();
  }
  at::Tensor forward(const at::Tensor& image, const at::Tensor& gbuffers, const at::Tensor& classes) {
    const int S = c_.num_stages;
    std::vector<at::Tensor> gs;
    if (c_.encoder_type == EncoderType::encoder) gs = encoder_->forward(gbuffers, classes);
    at::Tensor x = c_.encoder_type == EncoderType::concat ? torch::cat({image, gbuffers, classes}, 1) : image;
    x = stem_->forward(x);
    at::Tensor g_full;
    if (c_.encoder_type == EncoderType::spade) {
      g_full = torch::cat({gbuffers, classes}, 1);
      gs.push_back(g_full);
    }
    for (const auto& m : *layer1_) x = m->as<BasicBlockImpl>()->forward(x, gs.empty() ? at::Tensor() : gs[0]);
    std::vector<at::Tensor> xs{x};
    for (int s = 2; s <= S; ++s) {
      xs.push_back(transitions_[s - 2]->forward(xs.back()));
      if (c_.encoder_type == EncoderType::spade && static_cast<int>(gs.size()) < s)
        gs.push_back(resize_to(g_full, xs.back()));
      xs = stages_[s - 2]->forward(xs, gs);
    }
    at::Tensor y = xs.back();
    for (int k = S - 2, u = 0; k >= 0; --k, ++u) y = up_[u]->forward(torch::cat({resize_to(y, xs[k]), xs[k]}, 1));
    if (S == 1) y = up_[0]->forward(y);
    return y;
  }

 private:
  GeneratorConfig c_;
  torch::nn::Sequential stem_{nullptr};
  GBufferEncoder encoder_{nullptr};
  torch::nn::ModuleList layer1_{nullptr};
  std::vector<ConvNormAct> transitions_;
  std::vector<Stage> stages_;
  std::vector<torch::nn::Sequential> up_;
};

Generator::Generator(const GeneratorConfig& config) : config_(config) {
  config_.check();
  impl_ = register_module("net", std::make_shared<GeneratorImpl>(config_));
}

at::Tensor Generator::forward(const at::Tensor& image, const at::Tensor& gbuffers, const at::Tensor& classes) {
  EPE_CHECK(image.dim() == 4 && image.size(1) == 3, "generator: image must be [N, 3, H, W]");
  if (config_.encoder_type != EncoderType::none) {
    EPE_CHECK(gbuffers.defined() && gbuffers.dim() == 4 && gbuffers.size(1) == config_.gbuffer_channels &&
                  gbuffers.size(2) == image.size(2) && gbuffers.size(3) == image.size(3),
              "generator: G-buffers must be [N, ", config_.gbuffer_channels, ", H, W] like the image, got ",
              gbuffers.defined() ? gbuffers.sizes() : c10::IntArrayRef{});
    EPE_CHECK(classes.defined() && classes.dim() == 4 && classes.size(1) == config_.num_classes &&
                  classes.size(2) == image.size(2) && classes.size(3) == image.size(3),
              "generator: class maps must be [N, ", config_.num_classes, ", H, W] like the image");
  }
  const at::Tensor r = impl_->forward(image, gbuffers, classes);
  // The reference's form of logit(p) (generator.py make_residual), for the same rounding.
  const at::Tensor p = image.clamp(0.001, 0.999);
  return torch::sigmoid(-torch::log(1 / p - 1) + r);
}

std::int64_t Generator::parameter_count() const {
  return count_parameters(*this);
}

void Generator::set_sparse_class_encoders(bool on) {
  impl_->set_sparse(on);
}

void Generator::zero_output_layer() {
  impl_->zero_output();
}

}  // namespace epe::nn
