// KID, FID and the sKVD label pairing against fixtures from tests/fixtures/metrics/make_kernel_fixture.py
// (numpy implementations of torch-fidelity's and clean-fid's formulas) and brute force.

#include "epe/metrics/kernel.h"

#include <gtest/gtest.h>

#include <cmath>

#include "epe/core/rng.h"
#include "epe/io/npz.h"
#include "test_util.h"

namespace epe::test {
namespace {

const std::string kFixture = std::string(EPE_FIXTURES_DIR) + "/metrics/kernel.npz";

FeatureMatrix matrix(const NpyArray& a) {
  FeatureMatrix f;
  f.data = a.to_float();
  f.n = static_cast<std::int64_t>(a.shape.at(0));
  f.d = static_cast<int>(a.shape.at(1));
  return f;
}

std::vector<std::vector<std::int64_t>> rows_of(const NpyArray& a) {
  const std::vector<double> v = a.to_double();
  std::vector<std::vector<std::int64_t>> out(a.shape.at(0));
  for (std::size_t s = 0; s < a.shape[0]; ++s)
    for (std::size_t j = 0; j < a.shape[1]; ++j) out[s].push_back(static_cast<std::int64_t>(v[s * a.shape[1] + j]));
  return out;
}

double scalar(const std::map<std::string, NpyArray>& z, const std::string& k) {
  return z.at(k).to_double().at(0);
}

TEST(Kid, EqualsTorchFidelityAndCleanFidOnTheSameSubsets) {
  const auto z = read_npz(kFixture);
  const FeatureMatrix real = matrix(z.at("real")), fake = matrix(z.at("fake"));
  const KidResult r = kid(real, fake, rows_of(z.at("real_idx")), rows_of(z.at("fake_idx")));
  const std::vector<double> ref = z.at("kid_values").to_double();
  ASSERT_EQ(r.values.size(), ref.size());
  for (std::size_t s = 0; s < ref.size(); ++s) EXPECT_NEAR(r.values[s], ref[s], 1e-6 * std::abs(ref[s])) << s;
  EXPECT_NEAR(r.mean, scalar(z, "kid_mean"), 1e-6 * scalar(z, "kid_mean"));
  EXPECT_NEAR(r.std, scalar(z, "kid_std"), 1e-6 * scalar(z, "kid_std"));
  EXPECT_NEAR(r.mean, scalar(z, "cleanfid_kid"), 1e-6 * scalar(z, "cleanfid_kid"));
  EXPECT_EQ(r.subset_size, 200);
  EXPECT_EQ(r.subsets, 10);
}

TEST(Kid, DisjointSplitsOfOneSetAreNearZero) {
  const auto z = read_npz(kFixture);
  const KidResult same = kid(matrix(z.at("same_a")), matrix(z.at("same_b")), 50, 200, 3);
  EXPECT_LT(std::abs(same.mean), 3 * same.std) << same.mean << " +- " << same.std;
  const KidResult differ = kid(matrix(z.at("real")), matrix(z.at("fake")), 50, 200, 3);
  EXPECT_GT(differ.mean - 3 * differ.std, std::abs(same.mean) + 3 * same.std);
  // Seeded: the same call gives the same numbers; subsets are distinct rows.
  EXPECT_EQ(kid(matrix(z.at("same_a")), matrix(z.at("same_b")), 50, 200, 3).values, same.values);
  for (const auto& s : kid_subsets(300, 200, 3, 1, 0)) {
    std::vector<std::int64_t> v = s;
    std::sort(v.begin(), v.end());
    EXPECT_EQ(std::unique(v.begin(), v.end()), v.end());
    EXPECT_EQ(v.size(), 200u);
  }
}

TEST(Kid, TooFewSamplesIsAClearError) {
  FeatureMatrix a, b;
  a.d = b.d = 2;
  a.n = 1;
  a.data = {1, 2};
  b.n = 3;
  b.data = {1, 2, 3, 4, 5, 6};
  EXPECT_NE(user_error_message([&] { kid(a, b); }).find("at least 2"), std::string::npos);
}

TEST(Prdc, EqualsTorchFidelityAndThePrdcDefinitions) {
  const auto z = read_npz(std::string(EPE_FIXTURES_DIR) + "/metrics/prdc.npz");  // make_prdc_fixture.py
  const FeatureMatrix real = matrix(z.at("real")), fake = matrix(z.at("fake"));
  for (int k : {3, 5}) {
    const PrdcResult p = prdc(real, fake, k);
    const std::string s = std::to_string(k);
    EXPECT_NEAR(p.precision, scalar(z, "tf_precision_" + s), 1e-12) << k;
    EXPECT_NEAR(p.recall, scalar(z, "tf_recall_" + s), 1e-12) << k;
    EXPECT_NEAR(p.density, scalar(z, "density_" + s), 1e-12) << k;
    EXPECT_NEAR(p.coverage, scalar(z, "coverage_" + s), 1e-12) << k;
  }
  // A set against itself: every sample is inside the other's radius (distance 0).
  const PrdcResult same = prdc(real, real, 5);
  EXPECT_EQ(same.precision, 1.0);
  EXPECT_EQ(same.recall, 1.0);
  EXPECT_EQ(same.coverage, 1.0);
  FeatureMatrix tiny;
  tiny.n = 3;
  tiny.d = real.d;
  tiny.data.assign(3 * real.d, 0.f);
  EXPECT_NE(test::user_error_message([&] { prdc(real, tiny, 5); }).find("more than 5 samples"), std::string::npos);
}

TEST(Fid, EqualsScipySqrtmFormula) {
  const auto z = read_npz(kFixture);
  const double f = fid(matrix(z.at("real")), matrix(z.at("fake")));
  EXPECT_NEAR(f, scalar(z, "fid"), 1e-5 * scalar(z, "fid"));
  const double same = fid(matrix(z.at("same_a")), matrix(z.at("same_b")));
  EXPECT_NEAR(same, scalar(z, "same_fid"), 1e-5 * scalar(z, "same_fid"));
  // A set against itself: 0 up to rounding.
  EXPECT_NEAR(fid(matrix(z.at("real")), matrix(z.at("real"))), 0.0, 1e-8);
}

TEST(LabelPairing, EqualsBruteForceOnRandomGrids) {
  for (int cells : {256, 64, 100, 7}) {
    Rng rng(cells);
    const std::int64_t nf = 150, nr = 700;
    std::vector<std::uint8_t> fake(nf * cells), real(nr * cells);
    // Few classes (and 255) so many cells agree and ties are common.
    const std::uint8_t classes[5] = {3, 7, 9, 200, 255};
    for (auto& v : fake) v = classes[rng.uniform_int(5)];
    for (auto& v : real) v = classes[rng.uniform_int(5)];
    for (int t : {1, 2, 3}) {
      const auto got = nearest_by_labels(fake.data(), nf, real.data(), nr, cells, t);
      for (std::int64_t i = 0; i < nf; ++i) {
        int best = -1, best_j = -1;
        for (std::int64_t j = 0; j < nr; ++j) {
          int n = 0;
          for (int c = 0; c < cells; ++c) n += fake[i * cells + c] == real[j * cells + c];
          if (n > best) best = n, best_j = static_cast<int>(j);
        }
        ASSERT_EQ(got[i].real, best_j) << "cells " << cells << " threads " << t << " fake " << i;
        ASSERT_EQ(got[i].equal, best);
      }
    }
  }
  // No real grids: every fake grid unpaired.
  std::vector<std::uint8_t> one(16, 1);
  EXPECT_EQ(nearest_by_labels(one.data(), 1, nullptr, 0, 16)[0].real, -1);
}

}  // namespace
}  // namespace epe::test
