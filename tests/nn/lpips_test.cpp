// LPIPS (VGG, v0.1) against the reference formula (tests/fixtures/metrics/make_lpips_fixture.py)
// and its gradient against finite differences.

#include "epe/nn/lpips.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "epe/io/npz.h"
#include "test_util.h"
#include "vgg_fixture.h"

namespace epe::test {
namespace {

std::shared_ptr<nn::Lpips> fixture_lpips(const TempDir& dir) {
  write_fixture_weights_zip(dir / "vgg.pt");
  nn::LpipsOptions o;
  o.vgg = dir / "vgg.pt";
  return std::make_shared<nn::Lpips>(o);
}

TEST(Lpips, EqualsTheV01FormulaOnFixtures) {
  TempDir dir;
  auto lpips = fixture_lpips(dir);
  torch::NoGradGuard no_grad;
  const auto z = read_npz(std::string(EPE_FIXTURES_DIR) + "/metrics/lpips.npz");
  const std::vector<double> pairs = z.at("pairs").to_double(), ref = z.at("lpips").to_double(),
                            layers = z.at("layers").to_double();
  ASSERT_EQ(ref.size(), 3u);
  for (std::size_t p = 0; p < ref.size(); ++p) {
    const auto s0 = static_cast<std::uint64_t>(pairs[4 * p]), s1 = static_cast<std::uint64_t>(pairs[4 * p + 1]);
    const int h = static_cast<int>(pairs[4 * p + 2]), w = static_cast<int>(pairs[4 * p + 3]);
    const at::Tensor x0 = fixture_image(s0, h, w), x1 = fixture_image(s1, h, w);
    const at::Tensor l = lpips->layers(x0, x1);
    const double d = lpips->forward(x0, x1).item<double>();
    if (ref[p] == 0) {
      EXPECT_EQ(d, 0.0);  // identical inputs
      continue;
    }
    EXPECT_NEAR(d, ref[p], 1e-5 * ref[p]) << p;
    for (int k = 0; k < 5; ++k) EXPECT_NEAR(l[0][k].item<double>(), layers[5 * p + k], 1e-5 * ref[p]) << p << " " << k;
  }
  // A batch gives the per-pair values.
  const at::Tensor a = torch::cat({fixture_image(2001, 40, 48), fixture_image(2002, 40, 48)});
  const at::Tensor b = torch::cat({fixture_image(2002, 40, 48), fixture_image(2001, 40, 48)});
  const at::Tensor batch = lpips->forward(a, b);
  EXPECT_NEAR(batch[0].item<double>(), ref[0], 1e-5 * ref[0]);
  EXPECT_NEAR(batch[1].item<double>(), ref[0], 1e-5 * ref[0]);  // symmetric
  EXPECT_NE(lpips->provenance().find("vgg_zip.pt sha256:"), std::string::npos) << lpips->provenance();
}

TEST(Lpips, GradientMatchesFiniteDifferences) {
  TempDir dir;
  auto lpips = fixture_lpips(dir);
  lpips->to(torch::kFloat64);
  const at::Tensor x1 = fixture_image(2010, 20, 24).to(torch::kFloat64);
  at::Tensor x0 = fixture_image(2011, 20, 24).to(torch::kFloat64).requires_grad_(true);
  const at::Tensor loss = lpips->forward(x0, x1).sum();
  loss.backward();
  const at::Tensor grad = x0.grad().clone();
  ASSERT_GT(grad.abs().max().item<double>(), 0.0);
  torch::NoGradGuard no_grad;
  const double eps = 1e-6;
  for (std::int64_t flat : {0L, 77L, 500L, 1001L, 1439L}) {
    at::Tensor p = x0.detach().clone(), m = x0.detach().clone();
    p.view({-1})[flat] += eps;
    m.view({-1})[flat] -= eps;
    const double fd = (lpips->forward(p, x1).item<double>() - lpips->forward(m, x1).item<double>()) / (2 * eps);
    const double g = grad.view({-1})[flat].item<double>();
    EXPECT_NEAR(g, fd, 1e-5 * std::max(1e-3, std::abs(g))) << flat;
  }
  // Gradients flow to the second input too, and no parameter requires one.
  for (const auto& prm : lpips->parameters()) EXPECT_FALSE(prm.requires_grad());
}

TEST(Lpips, StableNormalisationHasFiniteGradientsOnAZeroColumn) {
  // Features [1, 4, 1, 3]: column 1 is all zero (as a ReLU layer gives).
  const at::Tensor f0 =
      torch::tensor({0.5, 0.0, 2.0, -1.0, 0.0, 1.0, 0.25, 0.0, 0.0, 3.0, 0.0, 0.5}, torch::kFloat64).view({1, 4, 1, 3});
  for (nn::LpipsNorm norm : {nn::LpipsNorm::v01, nn::LpipsNorm::stable}) {
    at::Tensor f = f0.clone().requires_grad_(true);
    nn::lpips_unit_normalize(f, norm).mul(torch::arange(12, torch::kFloat64).view({1, 4, 1, 3})).sum().backward();
    const at::Tensor g = f.grad();
    const bool finite = torch::isfinite(g).all().item<bool>();
    if (norm == nn::LpipsNorm::v01)
      EXPECT_FALSE(finite) << "the v0.1 formula's gradient at a zero column is NaN: " << g;
    else
      EXPECT_TRUE(finite) << g;
  }
  // Elsewhere the two agree to ~1e-10 relative; on the LPIPS fixtures to 1e-5.
  const at::Tensor a = nn::lpips_unit_normalize(f0, nn::LpipsNorm::v01),
                   b = nn::lpips_unit_normalize(f0, nn::LpipsNorm::stable);
  EXPECT_LT((a - b).abs().max().item<double>(), 1e-9);
  TempDir dir;
  write_fixture_weights_zip(dir / "vgg.pt");
  nn::LpipsOptions o;
  o.vgg = dir / "vgg.pt";
  nn::Lpips exact(o);
  o.norm = nn::LpipsNorm::stable;
  nn::Lpips stable(o);
  torch::NoGradGuard no_grad;
  const at::Tensor x0 = fixture_image(2001, 40, 48), x1 = fixture_image(2002, 40, 48);
  const double e = exact.forward(x0, x1).item<double>(), s = stable.forward(x0, x1).item<double>();
  EXPECT_NEAR(s, e, 1e-5 * e);
  EXPECT_NE(stable.provenance().find("norm: stable"), std::string::npos);
  EXPECT_EQ(exact.provenance().find("norm: stable"), std::string::npos);
}

TEST(Lpips, BadWeightsAreClearErrors) {
  TempDir dir;
  nn::LpipsOptions o;
  o.lin = dir / "missing.pt";
  EXPECT_NE(user_error_message([&] { nn::Lpips l(o); }).find("missing.pt"), std::string::npos);
  write_fixture_weights_zip(dir / "vgg.pt");
  o.lin = dir / "vgg.pt";  // a state dict without lin*.model.1.weight
  EXPECT_NE(user_error_message([&] { nn::Lpips l(o); }).find("lin0.model.1.weight"), std::string::npos);
}

}  // namespace
}  // namespace epe::test
