// The GAN losses against hand-computed values on d = (-1, 0, 0.5, 2), and the reference's forms
// (network/discriminator_losses.py) against the textbook variants.
#include "epe/train/gan_loss.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace epe {
namespace {

double sp(double x) {
  return std::log1p(std::exp(x));
}  // softplus

TEST(GanLoss, ReferenceFormsAndStandardVariants) {
  const at::Tensor d = torch::tensor({-1.0, 0.0, 0.5, 2.0}, torch::kFloat64);
  const double v[] = {-1.0, 0.0, 0.5, 2.0};
  auto mean = [&](auto f) {
    double s = 0;
    for (double x : v) s += f(x);
    return s / 4;
  };
  struct Case {
    const char* kind;
    double gen, real, fake;
  };
  const Case cases[] = {
      {"ls", mean([](double x) { return (1 - x) * (1 - x); }), mean([](double x) { return (1 - x) * (1 - x); }),
       mean([](double x) { return x * x; })},
      {"ns", mean([](double x) { return sp(1 - x); }), mean([](double x) { return sp(1 - x); }),
       mean([](double x) { return sp(x); })},
      {"hinge", mean([](double x) { return std::max(0.0, 1 - x); }),
       mean([](double x) { return std::max(0.0, 1 - x); }), mean([](double x) { return std::max(0.0, x); })},
      {"ns-standard", mean([](double x) { return sp(-x); }), mean([](double x) { return sp(-x); }),
       mean([](double x) { return sp(x); })},
      {"hinge-standard", mean([](double x) { return -x; }), mean([](double x) { return std::max(0.0, 1 - x); }),
       mean([](double x) { return std::max(0.0, 1 + x); })},
  };
  for (const Case& c : cases) {
    const GanLoss kind = parse_choice(gan_losses(), c.kind, "--gan-loss");
    EXPECT_EQ(choice_name(gan_losses(), kind), c.kind);
    EXPECT_NEAR(gen_loss(kind, d).item<double>(), c.gen, 1e-12) << c.kind;
    EXPECT_NEAR(real_loss(kind, d).item<double>(), c.real, 1e-12) << c.kind;
    EXPECT_NEAR(fake_loss(kind, d).item<double>(), c.fake, 1e-12) << c.kind;
  }
  // The reference's hinge: (1 - d).clamp(min=0) for real, d.clamp(min=0) for fake: 0.625 and 0.625.
  EXPECT_DOUBLE_EQ(real_loss(GanLoss::hinge, d).item<double>(), (2.0 + 1.0 + 0.5 + 0.0) / 4);
  EXPECT_DOUBLE_EQ(fake_loss(GanLoss::hinge, d).item<double>(), (0.0 + 0.0 + 0.5 + 2.0) / 4);
}

}  // namespace
}  // namespace epe
