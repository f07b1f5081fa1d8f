#include "epe/nn/reference_import.h"

#include <torch/nn/module.h>

#include <set>
#include <sstream>

#include "epe/core/error.h"
#include "epe/core/options.h"

namespace epe::nn {

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// Spectrally normalised convolution (torch.nn.utils.spectral_norm) -> PadConv(spectral).
void sn(Pairs& p, const std::string& r, const std::string& e) {
  p.emplace_back(r + ".weight_orig", e + ".conv.weight");
  p.emplace_back(r + ".bias", e + ".conv.bias");
  p.emplace_back(r + ".weight_u", e + ".u");
  p.emplace_back(r + ".weight_v", e + ".v");
}
void conv(Pairs& p, const std::string& r, const std::string& e, bool bias) {
  p.emplace_back(r + ".weight", e + ".conv.weight");
  if (bias) p.emplace_back(r + ".bias", e + ".conv.bias");
}
void gn(Pairs& p, const std::string& r, const std::string& e) {
  p.emplace_back(r + ".weight", e + ".gn.weight");
  p.emplace_back(r + ".bias", e + ".gn.bias");
}
// nf.ResBlock(dims, stride, relu, spectral): conv = [pad, SN conv, relu, pad, SN conv], down = [pad, SN conv, relu].
void resblock(Pairs& p, const std::string& r, const std::string& e, bool two_convs, bool down) {
  sn(p, r + ".conv.1", e + ".conv1");
  if (two_convs) sn(p, r + ".conv.4", e + ".conv2");
  if (down) sn(p, r + ".down.1", e + ".down");
}
void basic_block(Pairs& p, const GeneratorConfig& c, const std::string& r, const std::string& e) {
  p.emplace_back(r + ".conv1.1.weight", e + ".conv1.conv.weight");
  p.emplace_back(r + ".conv2.1.1.weight", e + ".conv2.conv.weight");
  for (int n = 1; n <= 2; ++n) {
    const std::string rb = cat(r, ".bn", n), eb = cat(e, ".norm", n);
    for (int l = 0; l < c.gbuffer_layers; ++l) resblock(p, cat(rb, "._conv.", l), cat(eb, ".proc.", l), false, false);
    p.emplace_back(rb + "._scale.weight", eb + ".scale.weight");
    p.emplace_back(rb + "._scale.bias", eb + ".scale.bias");
    p.emplace_back(rb + "._bias.weight", eb + ".shift.weight");
    p.emplace_back(rb + "._bias.bias", eb + ".shift.bias");
  }
}

std::string strip_prefixes(std::string k) {
  for (const char* pre : {"module.", "network."})
    if (k.rfind(pre, 0) == 0) k = k.substr(std::string(pre).size());
  return k;
}

TensorMap stripped(const TensorMap& sd) {
  TensorMap o;
  for (const auto& [k, v] : sd) o[strip_prefixes(k)] = v;
  return o;
}

// Largest N such that `<prefix><i><suffix>` is a key for every i < N.
int count_keys(const TensorMap& sd, const std::string& prefix, const std::string& suffix) {
  int n = 0;
  while (sd.count(cat(prefix, n, suffix))) ++n;
  return n;
}

const at::Tensor& need(const TensorMap& sd, const std::string& key, const std::string& file, const char* what) {
  auto it = sd.find(key);
  EPE_CHECK(it != sd.end(), "'", file, "' is not a reference ", what, " state dict of a supported kind (no '", key,
            "'; supported: generator type hr with encoder_type ENCODER, gbuffer_norm RAD, gbuffer_encoder_norm "
            "residual, group norms - train_pfd2cs.yaml; discriminator type ppde with group norms)");
  return it->second;
}

std::string list_some(const std::vector<std::string>& v) {
  std::ostringstream s;
  for (std::size_t i = 0; i < v.size() && i < 5; ++i) s << (i ? ", " : "") << v[i];
  if (v.size() > 5) s << " and " << v.size() - 5 << " more";
  return s.str();
}

void load(torch::nn::Module& m, const Pairs& pairs, const TensorMap& raw, const std::string& file, const char* what) {
  const TensorMap sd = stripped(raw);
  std::map<std::string, at::Tensor> ours;
  for (const auto& kv : m.named_parameters()) ours[kv.key()] = kv.value();
  for (const auto& kv : m.named_buffers()) ours[kv.key()] = kv.value();
  std::vector<std::string> missing, mismatched, unexpected;
  std::set<std::string> used;
  for (const auto& [r, e] : pairs) {
    auto it = ours.find(e);
    EPE_CHECK(it != ours.end(), "internal: no epe tensor '", e, "' for reference key '", r, "'");
    auto jt = sd.find(r);
    if (jt == sd.end()) {
      missing.push_back(r);
      continue;
    }
    used.insert(r);
    if (jt->second.sizes() != it->second.sizes())
      mismatched.push_back(cat(r, " ", jt->second.sizes(), " (epe expects ", it->second.sizes(), ")"));
  }
  for (const auto& [k, v] : sd)
    if (!used.count(k)) unexpected.push_back(k);
  EPE_CHECK(missing.empty() && mismatched.empty() && unexpected.empty(), "'", file, "': the reference ", what,
            " state dict does not fit the ", what,
            " it describes:", missing.empty() ? "" : cat("\n  missing (", missing.size(), "): ", list_some(missing)),
            mismatched.empty() ? "" : cat("\n  other shape (", mismatched.size(), "): ", list_some(mismatched)),
            unexpected.empty() ? "" : cat("\n  unexpected (", unexpected.size(), "): ", list_some(unexpected)));
  torch::NoGradGuard no_grad;
  for (const auto& [r, e] : pairs) {
    at::Tensor& dst = ours.at(e);
    dst.copy_(sd.at(r).to(dst.scalar_type()));
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> reference_generator_keys(const GeneratorConfig& c) {
  Pairs p;
  const int S = c.num_stages;
  conv(p, "stem.1", "net.stem.0.conv", false);
  gn(p, "stem.2", "net.stem.0.norm");
  conv(p, "stem.5", "net.stem.1.conv", false);
  gn(p, "stem.6", "net.stem.1.norm");
  for (int k = 0; k < c.num_classes; ++k)
    for (int j = 0; j < 2; ++j)
      resblock(p, cat("gbuffer_encoder.class_encoders.", k, ".", j), cat("net.gbuffer_encoder.class", k, ".", j), true,
               true);
  for (int b = 0; b < S; ++b)
    for (int j = 0; j < 2; ++j)
      resblock(p, cat("gbuffer_encoder.joint_encoder_layers.", b, ".", j), cat("net.gbuffer_encoder.branch", b, ".", j),
               true, b > 0 && j == 0);
  for (int k = 0; k < c.blocks; ++k) basic_block(p, c, cat("layer1.", k), cat("net.layer1.", k));
  for (int s = 2; s <= S; ++s) {
    const std::string rt = cat("transitions.", s - 2, ".", s - 1, ".0."), et = cat("net.transition", s);
    conv(p, rt + "0", et + ".conv", false);
    gn(p, rt + "1", et + ".norm");
    const std::string rs = cat("stages.", s - 2, ".0."), es = cat("net.stage", s);
    for (int b = 0; b < s; ++b)
      for (int k = 0; k < c.blocks; ++k)
        basic_block(p, c, cat(rs, "branches.", b, ".", k), cat(es, ".branch", b, ".", k));
    for (int i = 0; i < s; ++i)
      for (int j = 0; j < s; ++j) {
        const std::string rf = cat(rs, "fuse_layers.", i, ".", j), ef = cat(es, ".fuse", i, "_", j);
        if (j > i) {
          conv(p, rf + ".0", ef + ".0.conv", false);
          gn(p, rf + ".1", ef + ".0.norm");
        } else if (j < i) {
          for (int t = 0; t < i - j; ++t) {
            conv(p, cat(rf, ".", t, ".1"), cat(ef, ".", t, ".conv"), false);
            gn(p, cat(rf, ".", t, ".2"), cat(ef, ".", t, ".norm"));
          }
        }
      }
  }
  for (int u = 0; u + 1 < S; ++u) {
    conv(p, cat("up_layers.", u, ".1"), cat("net.up", u, ".0.conv"), true);
    gn(p, cat("up_layers.", u, ".2"), cat("net.up", u, ".0.norm"));
    if (u == S - 2) conv(p, cat("up_layers.", u, ".5"), cat("net.up", u, ".1"), true);
  }
  return p;
}

std::vector<std::pair<std::string, std::string>> reference_discriminator_keys(const DiscriminatorConfig& c) {
  Pairs p;
  for (int i = 0; i < 10; ++i) {
    const std::string r = cat("discs.", i), e = cat("disc", i);
    for (int k = 0; k < c.num_layers; ++k) {
      p.emplace_back(cat(r, ".model.", 1 + 4 * k, ".weight"), cat(e, ".conv", k, ".conv.weight"));
      gn(p, cat(r, ".model.", 2 + 4 * k), cat(e, ".norm", k));
    }
    conv(p, r + ".out.0", e + ".out1", true);
    conv(p, r + ".out.2", e + ".out2", true);
    p.emplace_back(r + ".embedding.weight", e + ".embedding.weight");
  }
  return p;
}

GeneratorConfig reference_generator_config(const TensorMap& raw, const std::string& file) {
  const TensorMap sd = stripped(raw);
  GeneratorConfig c = GeneratorConfig::preset("paper");
  const at::Tensor& stem = need(sd, "stem.1.weight", file, "generator");
  const at::Tensor& enc = need(sd, "gbuffer_encoder.class_encoders.0.0.conv.1.weight_orig", file, "generator");
  const at::Tensor& joint = need(sd, "gbuffer_encoder.joint_encoder_layers.0.0.conv.1.weight_orig", file, "generator");
  need(sd, "layer1.0.bn1._scale.weight", file, "generator");
  c.base_channels = static_cast<int>(stem.size(0));
  c.gbuffer_channels = static_cast<int>(enc.size(1));
  c.gbuffer_dim = static_cast<int>(joint.size(0));
  c.num_classes = count_keys(sd, "gbuffer_encoder.class_encoders.", ".0.conv.1.weight_orig");
  c.num_stages = count_keys(sd, "up_layers.", ".1.weight") + 1;
  c.blocks = count_keys(sd, "layer1.", ".conv1.1.weight");
  c.gbuffer_layers = count_keys(sd, "layer1.0.bn1._conv.", ".conv.1.weight_orig");
  EPE_CHECK(c.gbuffer_layers >= 1, "'", file, "': RAD without G-buffer layers (num_gbuffer_layers 0) is not supported");
  EPE_CHECK(stem.size(1) == 3, "'", file, "': the stem takes ", stem.size(1),
            " channels; only encoder_type ENCODER (3: the image) is supported");
  c.check();
  return c;
}

DiscriminatorConfig reference_discriminator_config(const TensorMap& raw, const std::string& file) {
  const TensorMap sd = stripped(raw);
  DiscriminatorConfig c = DiscriminatorConfig::preset("paper");
  need(sd, "discs.9.embedding.weight", file, "discriminator");
  const at::Tensor& first = need(sd, "discs.9.model.1.weight", file, "discriminator");
  c.num_layers = 0;
  while (sd.count(cat("discs.0.model.", 1 + 4 * c.num_layers, ".weight"))) ++c.num_layers;
  c.max_dim = static_cast<int>(first.size(0));  // relu4_3's discriminator: min(max_dim, 512) channels
  c.num_classes = static_cast<int>(sd.at("discs.9.embedding.weight").size(0));
  EPE_CHECK(c.num_layers >= 3, "'", file, "': ", c.num_layers,
            " layers per discriminator (the reference builds at least 3; fewer do not run there)");
  c.check();
  return c;
}

void load_reference_generator(Generator& g, const TensorMap& sd, const std::string& file) {
  const GeneratorConfig& c = g.config();
  EPE_CHECK(c.encoder_type == EncoderType::encoder && c.gbuffer_norm == GBufferNorm::rad &&
                c.stem_norm == NormKind::group && c.other_norm == NormKind::group,
            "reference generators load into encoder_type encoder, gbuffer_norm rad, group norms only (this one: ",
            c.describe(), ")");
  load(g, reference_generator_keys(c), sd, file, "generator");
}

void load_reference_discriminator(Discriminator& d, const TensorMap& sd, const std::string& file) {
  const DiscriminatorConfig& c = d.config();
  EPE_CHECK(c.type == DiscriminatorType::ppde && c.norm == NormKind::group,
            "reference discriminators load into ppde with group norms only");
  load(d, reference_discriminator_keys(c), sd, file, "discriminator");
}

}  // namespace epe::nn
