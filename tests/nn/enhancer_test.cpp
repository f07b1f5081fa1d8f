// The enhancer's networks: the reference's exact parameter counts, output shapes on frames of
// several sizes, configuration round trips and errors.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "epe/nn/discriminator.h"
#include "epe/nn/generator.h"
#include "epe/nn/layers.h"
#include "epe/nn/vgg16.h"
#include "test_util.h"

namespace epe::test {
namespace {

using nn::DiscriminatorConfig;
using nn::GeneratorConfig;

std::shared_ptr<nn::Vgg16> frozen_vgg() {
  nn::Vgg16Options o;
  o.padding = nn::Padding::replicate;
  return std::make_shared<nn::Vgg16>(o);
}

TEST(Generator, PaperPresetHasTheReferenceParameterCount) {
  torch::manual_seed(0);
  nn::Generator g(GeneratorConfig::preset("paper"));
  EXPECT_EQ(g.parameter_count(), 44736691);
}

TEST(Discriminator, PaperPresetHasTheReferenceParameterCount) {
  nn::Discriminator d(DiscriminatorConfig::preset("paper"), frozen_vgg());
  EXPECT_EQ(nn::count_parameters(d), 27578634);  // VGG-16 not included (frozen, not registered)
  EXPECT_EQ(d.count(), 10);
}

TEST(Generator, OutputShapesAndRangeForSeveralFrameSizes) {
  torch::manual_seed(1);
  const GeneratorConfig c = GeneratorConfig::preset("tiny");
  nn::Generator g(c);
  torch::NoGradGuard no_grad;
  for (auto [h, w] : std::vector<std::pair<int, int>>{{32, 32}, {37, 53}, {64, 48}, {21, 90}}) {
    const at::Tensor x = torch::rand({2, 3, h, w});
    const at::Tensor gb = torch::randn({2, c.gbuffer_channels, h, w});
    const at::Tensor cls = torch::softmax(torch::randn({2, c.num_classes, h, w}), 1);
    const at::Tensor y = g.forward(x, gb, cls);
    EXPECT_EQ(y.sizes(), x.sizes()) << h << "x" << w;
    EXPECT_GT(y.min().item<float>(), 0.f);
    EXPECT_LT(y.max().item<float>(), 1.f);
  }
  // Every ablation variant builds and keeps the shape; 3 stages too.
  for (const auto& [enc, encoder_type] : nn::encoder_types())
    for (const auto& [norm, gbuffer_norm] : nn::gbuffer_norms()) {
      GeneratorConfig v = c;
      v.encoder_type = encoder_type;
      v.gbuffer_norm = gbuffer_norm;
      v.num_stages = 3;
      if ((enc == "concat" || enc == "none") && norm != "default") {
        EXPECT_NE(user_error_message([&] { v.check(); }).find("needs G-buffer features"), std::string::npos);
        continue;
      }
      nn::Generator gv(v);
      const at::Tensor x = torch::rand({1, 3, 29, 35});
      EXPECT_EQ(
          gv.forward(x, torch::randn({1, v.gbuffer_channels, 29, 35}), torch::ones({1, v.num_classes, 29, 35})).sizes(),
          x.sizes())
          << enc << " " << norm;
    }
}

TEST(Generator, ZeroedOutputLayerStartsAtTheInputAndStillLearns) {
  // For 1, 2 and 3 stages: the output is the clamped input (sigmoid(logit(p)) rounds to within
  // 1e-6 of p), and the output layer's weight gets a non-zero gradient, so training moves it.
  for (int stages : {1, 2, 3}) {
    torch::manual_seed(2);
    GeneratorConfig c = GeneratorConfig::preset("tiny");
    c.num_stages = stages;
    nn::Generator g(c);
    const at::Tensor x = torch::rand({1, 3, 24, 40}), gb = torch::randn({1, c.gbuffer_channels, 24, 40});
    const at::Tensor cls = torch::softmax(torch::randn({1, c.num_classes, 24, 40}), 1);
    EXPECT_GT((g.forward(x, gb, cls) - x.clamp(0.001, 0.999)).abs().max().item<double>(), 1e-3) << stages;
    g.zero_output_layer();
    const at::Tensor y = g.forward(x, gb, cls);
    EXPECT_LT((y - x.clamp(0.001, 0.999)).abs().max().item<double>(), 1e-6) << stages;
    (y - 0.5).square().sum().backward();
    double grad = 0;
    for (const auto& p : g.named_parameters())
      if (p.value().grad().defined()) grad = std::max(grad, p.value().grad().abs().max().item<double>());
    EXPECT_GT(grad, 1e-4) << stages;
  }
}

TEST(Generator, ClassEncodersOnBoundingBoxesEqualWholeFrames) {
  torch::manual_seed(4);
  nn::GeneratorConfig c = nn::GeneratorConfig::preset("tiny");
  c.num_classes = 5;
  nn::Generator g(c);
  g.eval();  // spectral norm's power iteration would otherwise move between the two passes
  const at::Tensor x = torch::rand({2, 3, 40, 52});
  const at::Tensor gb = torch::randn({2, c.gbuffer_channels, 40, 52});
  // Classes in blocks (one absent, one a few pixels at a border), one-hot.
  at::Tensor id = torch::zeros({2, 40, 52}, torch::kInt64);
  id.slice(1, 0, 15).fill_(1);
  id.slice(1, 20, 30).slice(2, 10, 20).fill_(2);
  id[1].slice(0, 38, 40).slice(1, 50, 52).fill_(4);
  const at::Tensor cls = torch::one_hot(id, 5).permute({0, 3, 1, 2}).to(torch::kFloat32);
  at::Tensor xs = x.clone().requires_grad_(true), xf = x.clone().requires_grad_(true);
  const at::Tensor ys = g.forward(xs, gb, cls);
  ys.sum().backward();
  std::vector<at::Tensor> gs;
  for (const auto& p : g.parameters())
    gs.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));  // absent class: no gradient
  g.zero_grad();
  g.set_sparse_class_encoders(false);
  const at::Tensor yf = g.forward(xf, gb, cls);
  yf.sum().backward();
  EXPECT_LT((ys - yf).abs().max().item<double>(), 1e-5);
  std::size_t i = 0;
  for (const auto& p : g.parameters()) {
    const double scale = std::max(1e-3, gs[i].abs().max().item<double>());
    EXPECT_LT((p.grad() - gs[i]).abs().max().item<double>(), 1e-4 * scale) << i;
    ++i;
  }
}

TEST(SpectralNorm, NormalisesTheLargestSingularValueAndAllowsTwoPassesBeforeBackward) {
  torch::manual_seed(5);
  nn::PadConv c(4, 6, 3, 1, true, /*spectral=*/true);
  const at::Tensor x = torch::randn({1, 4, 8, 8}, torch::requires_grad());
  // Two training-mode passes before one backward (PyTorch's spectral_norm allows it too).
  const at::Tensor y = c->forward(x) + c->forward(x);
  EXPECT_NO_THROW(y.sum().backward());
  // After enough power iterations the effective weight has spectral norm 1.
  for (int i = 0; i < 200; ++i) c->power_iteration();
  c->eval();
  torch::NoGradGuard no_grad;
  const at::Tensor w = c->conv->weight.reshape({6, -1});
  const double sigma = std::get<1>(torch::linalg::svd(w, false, c10::nullopt))[0].item<double>();
  // A delta image reads one entry of the effective weight w / sigma_estimate back out.
  at::Tensor delta = torch::zeros({1, 4, 3, 3});
  delta[0][0][1][1] = 1;
  const at::Tensor out = c->forward(delta) - c->conv->bias.view({1, 6, 1, 1});
  const double ratio = c->conv->weight[0][0][1][1].item<double>() / out[0][0][1][1].item<double>();
  EXPECT_NEAR(ratio, sigma, 1e-4 * sigma);
}

TEST(Generator, PaperPresetRunsOnASmallFrame) {
  torch::manual_seed(2);
  nn::Generator g(GeneratorConfig::preset("paper"));
  torch::NoGradGuard no_grad;
  const at::Tensor x = torch::rand({1, 3, 40, 56});
  const at::Tensor y = g.forward(x, torch::randn({1, 32, 40, 56}), torch::ones({1, 12, 40, 56}) / 12);
  EXPECT_EQ(y.sizes(), x.sizes());
}

TEST(Generator, ConfigRoundTripsAndErrorsAreClear) {
  GeneratorConfig c = GeneratorConfig::preset("tiny");
  c.encoder_type = nn::EncoderType::spade;
  c.other_norm = nn::NormKind::instance;
  EXPECT_EQ(GeneratorConfig::from_ini(c.to_ini()), c);
  EXPECT_NE(c.to_ini().find("encoder_type = spade\n"), std::string::npos);
  EXPECT_NE(c.describe().find("other_norm=instance"), std::string::npos);
  EXPECT_NE(user_error_message([] {
              GeneratorConfig::from_ini("gbuffer_norm = radd\n");
            }).find("'radd' is not one of rad | spade | default"),
            std::string::npos);
  EXPECT_NE(user_error_message([] { GeneratorConfig::from_ini("blocks = 2x\n"); }).find("blocks = '2x'"),
            std::string::npos);
  EXPECT_NE(user_error_message([] { GeneratorConfig::preset("huge"); }).find("huge"), std::string::npos);
  nn::Generator g(GeneratorConfig::preset("tiny"));
  const at::Tensor x = torch::rand({1, 3, 16, 16});
  // Missing G-buffer channels: a clear error.
  EXPECT_NE(user_error_message([&] {
              g.forward(x, torch::zeros({1, 7, 16, 16}), torch::zeros({1, 12, 16, 16}));
            }).find("G-buffers must be [N, 32, H, W]"),
            std::string::npos);
}

TEST(Discriminator, MapsPerTapAndPatchGan) {
  torch::manual_seed(3);
  auto vgg = frozen_vgg();
  nn::Discriminator d(DiscriminatorConfig::preset("tiny"), vgg);
  const at::Tensor x = torch::rand({2, 3, 64, 64}).requires_grad_(true);
  const at::Tensor labels = torch::randint(0, 194, {2, 64, 64}, torch::kInt64);
  const auto maps = d.forward(x, labels, false);
  ASSERT_EQ(maps.size(), 10u);
  for (const auto& m : maps) {
    EXPECT_EQ(m.size(0), 2);
    EXPECT_EQ(m.size(1), 1);
  }
  // relu1_1's discriminator has 2 stride-2 layers in the tiny preset (64 -> 16).
  EXPECT_EQ(maps[0].size(2), 16);
  // Gradients reach the image unless fix_input.
  maps[9].sum().backward();
  EXPECT_GT(x.grad().abs().sum().item<double>(), 0.0);
  const auto fixed = d.forward(x, labels, true);
  EXPECT_FALSE(fixed[0].grad_fn() == nullptr);  // the discriminator itself still has gradients
  DiscriminatorConfig p = DiscriminatorConfig::preset("tiny");
  p.type = nn::DiscriminatorType::patchgan;
  EXPECT_EQ(DiscriminatorConfig::from_ini(p.to_ini()).to_ini(), p.to_ini());
  nn::Discriminator pg(p, nullptr);
  EXPECT_EQ(pg.forward(x, labels, false).size(), 3u);
}

TEST(Discriminator, UnlabeledPixelsAreMaskedAndTheClassCountIsAnOption) {
  torch::manual_seed(4);
  auto vgg = frozen_vgg();
  DiscriminatorConfig c = DiscriminatorConfig::preset("tiny");
  c.num_classes = 19;  // a Cityscapes-trained segmenter's labels
  nn::Discriminator d(c, vgg);
  torch::NoGradGuard no_grad;
  const at::Tensor x = torch::rand({1, 3, 64, 64});
  at::Tensor labels = torch::randint(0, 19, {1, 64, 64}, torch::kInt64);
  labels.slice(1, 0, 32).fill_(255);  // the top half unlabeled
  const auto a = d.forward(x, labels, true);
  // Changing every embedding row changes the maps, but not where all labels are 255 ...
  const at::Tensor all_unlabeled = torch::full({1, 64, 64}, 255, torch::kInt64);
  const auto u0 = d.forward(x, all_unlabeled, true);
  for (auto& p : d.named_parameters())
    if (p.key().find("embedding") != std::string::npos) p.value().add_(1.0);
  const auto b = d.forward(x, labels, true), u1 = d.forward(x, all_unlabeled, true);
  for (std::size_t k = 0; k < a.size(); ++k) {
    EXPECT_TRUE(torch::isfinite(a[k]).all().item<bool>()) << k;
    EXPECT_GT((a[k] - b[k]).abs().max().item<double>(), 0.0) << k;
    EXPECT_EQ((u0[k] - u1[k]).abs().max().item<double>(), 0.0) << k;  // the projection term is zero
  }
}

}  // namespace
}  // namespace epe::test
