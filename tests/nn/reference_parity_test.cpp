// Parity with the reference implementation's networks (issue 15, item 1): the state dicts that
// tests/fixtures/enhancer/make_reference_fixture.py wrote by running the reference's own code
// (reduced configuration: 3 stages, 1 RAD layer, 3 classes, 5 G-buffer channels; discriminator
// max_dim 16, 3 layers) load into epe's Generator and Discriminator through the documented name
// map (lib/epe/nn/reference_import.h), and give the reference's outputs, losses and gradients of
// one generator step and one discriminator step (LS losses, R1 0.03) within 1e-4 relative, both
// sides in float64. EPE_PARITY_VERBOSE=1 prints every parameter whose gradient differs by > 1e-5.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>

#include "epe/nn/reference_import.h"
#include "epe/nn/torch_pickle.h"
#include "epe/nn/vgg16.h"
#include "test_util.h"
#include "vgg_fixture.h"

namespace epe::test {
namespace {

using TensorMap = std::map<std::string, at::Tensor>;

double rel(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.detach().to(torch::kFloat64), y = b.detach().to(torch::kFloat64);
  return (x - y).abs().max().item<double>() / std::max(1e-30, y.abs().max().item<double>());
}

// The script's grad_summary: norm, sum, entries at (k * 2654435761) % numel.
at::Tensor grad_summary(const at::Tensor& grad) {
  const at::Tensor g = grad.detach().to(torch::kFloat64).reshape(-1);
  const std::int64_t n = g.numel();
  std::vector<std::int64_t> idx;
  for (std::uint64_t k = 0; k < 16; ++k)
    idx.push_back(static_cast<std::int64_t>((k * 2654435761ULL) % std::uint64_t(n)));
  return torch::cat({g.norm().reshape(1), g.sum().reshape(1), g.index({torch::tensor(idx)})});
}

// Worst relative difference of the gradient summaries over all parameters (scaled by each
// gradient's norm, so tiny entries of large gradients do not dominate).
double grad_rel(const torch::nn::Module& m, const std::vector<std::pair<std::string, std::string>>& keys,
                const TensorMap& io, const char* prefix, std::string* worst) {
  std::map<std::string, at::Tensor> params;
  for (const auto& kv : m.named_parameters()) params[kv.key()] = kv.value();
  double w = 0;
  int compared = 0;
  for (const auto& [r, e] : keys) {
    auto it = params.find(e);
    if (it == params.end()) continue;  // spectral-norm buffers
    const std::string key = std::string(prefix) + (std::string(prefix) == "ggrad." ? "network." : "") + r;
    const at::Tensor ref = io.at(key);
    const at::Tensor& g = it->second.grad();
    EXPECT_TRUE(g.defined()) << e;
    if (!g.defined()) continue;
    const at::Tensor ours = grad_summary(g);
    const double scale = std::max(1e-30, ref[0].item<double>());
    const double d = (ours - ref).abs().max().item<double>() / scale;
    ++compared;
    if (std::getenv("EPE_PARITY_VERBOSE") && d > 1e-5) std::printf("  %s %.2e\n", e.c_str(), d);
    if (d > w) {
      w = d;
      *worst = e;
    }
  }
  EXPECT_GT(compared, 0);
  return w;
}

void check_reference_fixture(const std::string& dir) {
  const std::string gfile = dir + "/ref-1000_gen-network.pth.tar", dfile = dir + "/ref-1000_disc-network.pth.tar";
  const TensorMap io = nn::read_torch_state_dict(dir + "/io.pt");
  const TensorMap gsd = nn::read_torch_state_dict(gfile), dsd = nn::read_torch_state_dict(dfile);
  const auto cfg = io.at("config").to(torch::kInt64);
  nn::GeneratorConfig gc = nn::reference_generator_config(gsd, gfile);
  EXPECT_EQ(gc.num_stages, cfg[0].item<int>());
  EXPECT_EQ(gc.gbuffer_layers, cfg[1].item<int>());
  EXPECT_EQ(gc.num_classes, cfg[2].item<int>());
  EXPECT_EQ(gc.gbuffer_channels, cfg[3].item<int>());
  EXPECT_EQ(gc.base_channels, 16);
  EXPECT_EQ(gc.blocks, 4);
  EXPECT_EQ(gc.gbuffer_dim, 128);
  nn::DiscriminatorConfig dc = nn::reference_discriminator_config(dsd, dfile);
  EXPECT_EQ(dc.max_dim, cfg[4].item<int>());
  EXPECT_EQ(dc.num_layers, cfg[5].item<int>());
  EXPECT_EQ(dc.num_classes, 194);

  torch::manual_seed(3);
  nn::Generator g(gc);
  nn::load_reference_generator(g, gsd, gfile);
  nn::Vgg16Options vo;
  vo.weights = fixture_dir() + "/vgg16_strided_zip.pt";
  vo.padding = nn::Padding::replicate;
  auto vgg = std::make_shared<nn::Vgg16>(vo);
  nn::Discriminator d(dc, vgg);
  nn::load_reference_discriminator(d, dsd, dfile);
  for (auto& p : vgg->parameters()) p.set_requires_grad(false);
  // In float64 like the fixture: in float32 the reference is ill-conditioned here (its own float32
  // and float64 gradients differ by up to 6 %), so 1e-4 is a statement about double precision.
  g.to(torch::kFloat64);
  d.to(torch::kFloat64);
  vgg->to(torch::kFloat64);

  const at::Tensor image = io.at("image").to(torch::kFloat64), gb = io.at("gbuffers").to(torch::kFloat64);
  const at::Tensor cls = io.at("classes").to(torch::kFloat64), real = io.at("real").to(torch::kFloat64);
  const at::Tensor labels = io.at("robust_labels").to(torch::kInt64);
  const at::Tensor real_labels = io.at("real_labels").to(torch::kInt64);

  g.eval();
  {
    torch::NoGradGuard no_grad;
    EXPECT_LT(rel(g.forward(image, gb, cls), io.at("gen_eval")), 1e-4) << "generator, eval mode";
  }
  g.train();
  d.train();
  // Generator step.
  const at::Tensor rec = g.forward(image, gb, cls);
  EXPECT_LT(rel(rec, io.at("gen_train")), 1e-4) << "generator, train mode (one power iteration)";
  const auto maps = d.forward(rec, labels, false);
  ASSERT_EQ(maps.size(), 10u);
  at::Tensor loss = torch::zeros({}, torch::kFloat64);
  for (std::size_t i = 0; i < maps.size(); ++i) {
    EXPECT_LT(rel(maps[i], io.at(cat("gstep_map.", i))), 1e-4) << "generator step, map " << i;
    loss = loss + (1 - maps[i]).pow(2).mean().to(torch::kFloat64);
  }
  EXPECT_LT(rel(loss, io.at("gstep_loss")[0]), 1e-4);
  loss.backward();
  std::string worst;
  const double gr = grad_rel(g, nn::reference_generator_keys(gc), io, "ggrad.", &worst);
  EXPECT_LT(gr, 1e-4) << "generator gradients, worst " << worst;
  std::printf("reference parity: generator output %.2e, gradients %.2e (worst %s)\n", rel(rec, io.at("gen_train")), gr,
              worst.c_str());
  for (auto& p : d.parameters()) p.mutable_grad() = at::Tensor();

  // Discriminator step.
  at::Tensor fake;
  {
    torch::NoGradGuard no_grad;
    fake = g.forward(image, gb, cls);
  }
  const auto fm = d.forward(fake, labels, true);
  const at::Tensor real_img = real.clone().requires_grad_(true);
  const auto rm = d.forward(real_img, real_labels, false);
  at::Tensor lf = torch::zeros({}, torch::kFloat64), lr = torch::zeros({}, torch::kFloat64);
  for (std::size_t i = 0; i < fm.size(); ++i) {
    EXPECT_LT(rel(fm[i], io.at(cat("dstep_fake_map.", i))), 1e-4) << "fake map " << i;
    EXPECT_LT(rel(rm[i], io.at(cat("dstep_real_map.", i))), 1e-4) << "real map " << i;
    lf = lf + fm[i].pow(2).mean();
    lr = lr + (1 - rm[i]).pow(2).mean();
  }
  const at::Tensor gi = torch::autograd::grad({lr}, {real_img}, {}, true, true)[0];
  const at::Tensor r1 = gi.pow(2).flatten(1).sum(1).mean();
  EXPECT_LT(rel(lf, io.at("dstep_fake_loss")[0]), 1e-4);
  EXPECT_LT(rel(lr, io.at("dstep_real_loss")[0]), 1e-4);
  EXPECT_LT(rel(r1, io.at("dstep_r1")[0]), 1e-4);
  (lf + lr + 0.03 * r1).backward();
  const double dr = grad_rel(d, nn::reference_discriminator_keys(dc), io, "dgrad.", &worst);
  EXPECT_LT(dr, 1e-4) << "discriminator gradients, worst " << worst;
  std::printf("reference parity: discriminator gradients %.2e (worst %s), R1 %.2e\n", dr, worst.c_str(),
              rel(r1, io.at("dstep_r1")[0]));
}

TEST(ReferenceParity, ReducedConfigurationForwardAndOneStepGradients) {
  check_reference_fixture(fixture_dir() + "/../enhancer/reduced");
}

// The paper configuration, once (make_reference_fixture.py --config paper DIR, then
// EPE_REFERENCE_PAPER_FIXTURE=DIR): too slow and too large for every run of the suite.
TEST(ReferenceParity, PaperConfigurationWhenGiven) {
  const char* dir = std::getenv("EPE_REFERENCE_PAPER_FIXTURE");
  if (dir == nullptr) GTEST_SKIP() << "EPE_REFERENCE_PAPER_FIXTURE not set";
  check_reference_fixture(dir);
}

TEST(ReferenceParity, WrongOrPartialStateDictsNameTheKeys) {
  const std::string dir = fixture_dir() + "/../enhancer/reduced";
  const std::string gfile = dir + "/ref-1000_gen-network.pth.tar";
  TensorMap gsd = nn::read_torch_state_dict(gfile);
  const nn::GeneratorConfig gc = nn::reference_generator_config(gsd, gfile);
  nn::Generator g(gc);
  TensorMap partial = gsd;
  partial.erase("network.up_layers.0.2.bias");
  std::string m = user_error_message([&] { nn::load_reference_generator(g, partial, "x.pth"); });
  EXPECT_NE(m.find("missing (1): up_layers.0.2.bias"), std::string::npos) << m;
  TensorMap wrong = gsd;
  wrong["network.stem.1.weight"] = torch::zeros({16, 3, 5, 5});
  wrong["network.extra.weight"] = torch::zeros({1});
  m = user_error_message([&] { nn::load_reference_generator(g, wrong, "x.pth"); });
  EXPECT_NE(m.find("other shape (1): stem.1.weight [16, 3, 5, 5] (epe expects [16, 3, 3, 3])"), std::string::npos) << m;
  EXPECT_NE(m.find("unexpected (1): extra.weight"), std::string::npos) << m;
  const TensorMap dsd = nn::read_torch_state_dict(dir + "/ref-1000_disc-network.pth.tar");
  m = user_error_message([&] { nn::reference_generator_config(dsd, "d.pth"); });
  EXPECT_NE(m.find("'d.pth' is not a reference generator state dict"), std::string::npos) << m;
}

}  // namespace
}  // namespace epe::test
