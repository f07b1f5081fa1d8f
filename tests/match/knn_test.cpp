#include "epe/match/knn.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "cuda_test.h"
#include "epe/core/rng.h"
#include "match_test_util.h"
#include "test_util.h"

namespace epe::test {
namespace {

TEST(Knn, ExactSearchEqualsBruteForceAndBreaksTiesByIndex) {
  // Integer vectors: every dot product is exact, so ties are real ties whatever the summation
  // order; many targets are duplicates of each other.
  const int d = 8, k = 5;
  Rng rng(3);
  std::vector<float> t, q;
  for (int i = 0; i < 3000; ++i)
    for (int e = 0; e < d; ++e) t.push_back(static_cast<float>(static_cast<int>(rng.uniform_int(5)) - 2));
  for (int i = 0; i < 200; ++i)
    for (int e = 0; e < d; ++e) q.push_back(static_cast<float>(static_cast<int>(rng.uniform_int(5)) - 2));
  auto index = make_exact_knn(t, 3000, d, "cpu");
  KnnBlock r = index->search(q.data(), 200, k);
  EXPECT_EQ(r.index, brute_force(t, q, d, k));
  for (int i = 0; i < 200 * k; i += k) EXPECT_GE(r.score[i], r.score[i + k - 1]);
}

TEST(Knn, IvfWithAllListsProbedEqualsBruteForceIncludingTies) {
  const int d = 8, k = 5;
  Rng rng(4);
  std::vector<float> t, q;
  for (int i = 0; i < 2000; ++i)
    for (int e = 0; e < d; ++e) t.push_back(static_cast<float>(static_cast<int>(rng.uniform_int(5)) - 2));
  for (int i = 0; i < 100; ++i)
    for (int e = 0; e < d; ++e) q.push_back(static_cast<float>(static_cast<int>(rng.uniform_int(5)) - 2));
  IvfParams p;
  p.nlist = 16;
  p.nprobe = 16;
  EXPECT_EQ(make_ivf_knn(t, 2000, d, p)->search(q.data(), 100, k).index, brute_force(t, q, d, k));
  p.nprobe = 17;
  EXPECT_NE(user_error_message([&] { make_ivf_knn(t, 2000, d, p); }).find("--nprobe"), std::string::npos);
}

TEST(Knn, ExactSearchOnUnitVectorsEqualsBruteForce) {
  const int d = 32;
  std::vector<float> t = random_unit(5000, d, 1), q = random_unit(300, d, 2);
  KnnBlock r = make_exact_knn(t, 5000, d, "cpu")->search(q.data(), 300, 10);
  EXPECT_EQ(r.index, brute_force(t, q, d, 10));
}

double recall(const KnnBlock& a, const KnnBlock& exact) {
  std::int64_t hit = 0;
  for (std::int64_t i = 0; i < a.n; ++i) {
    std::vector<std::int64_t> e(exact.index.begin() + i * a.k, exact.index.begin() + (i + 1) * a.k);
    for (int j = 0; j < a.k; ++j) hit += std::count(e.begin(), e.end(), a.index[i * a.k + j]);
  }
  return static_cast<double>(hit) / (a.n * a.k);
}

TEST(Knn, FaissIndicesReachTheDocumentedRecall) {
  const int d = 64;
  std::vector<float> t = random_unit(20000, d, 5, 100), q = random_unit(500, d, 6, 100);
  // Same clusters for queries and targets: regenerate queries from the targets' generator.
  q.assign(t.begin(), t.begin() + 500 * d);
  for (float& x : q) x *= 0.999f;
  KnnBlock exact = make_exact_knn(t, 20000, d, "cpu")->search(q.data(), 500, 10);
  FaissParams ivf;
  ivf.spec = "IVF256,Flat";
  ivf.nprobe = 16;
  KnnBlock a = make_faiss_knn(t, 20000, d, ivf)->search(q.data(), 500, 10);
  EXPECT_GE(recall(a, exact), 0.95);
  IvfParams own;
  own.nlist = 256;
  own.nprobe = 16;
  KnnBlock g = make_ivf_knn(t, 20000, d, own)->search(q.data(), 500, 10);
  EXPECT_GE(recall(g, exact), 0.95);
  // Probing every list is exact search, ties and all.
  own.nprobe = 256;
  KnnBlock all = make_ivf_knn(t, 20000, d, own)->search(q.data(), 500, 10);
  EXPECT_EQ(all.index, exact.index);
  FaissParams hnsw;
  hnsw.spec = "HNSW32";
  hnsw.ef_search = 64;
  EXPECT_GE(recall(make_faiss_knn(t, 20000, d, hnsw)->search(q.data(), 500, 10), exact), 0.95);
  FaissParams flat;
  flat.spec = "Flat";
  EXPECT_EQ(recall(make_faiss_knn(t, 20000, d, flat)->search(q.data(), 500, 10), exact), 1.0);
  FaissParams bad;
  bad.spec = "IVF,Nonsense";
  EXPECT_NE(user_error_message([&] { make_faiss_knn(t, 20000, d, bad); }).find("IVF,Nonsense"), std::string::npos);
}

TEST(KnnFactory, ParsesEverySpecOnceAndKnowsWhichOptionsApply) {
  const KnnSpec exact = parse_knn_spec("exact");
  EXPECT_EQ(exact.kind, KnnKind::exact);
  EXPECT_FALSE(exact.approximate() || exact.probes || exact.hnsw);
  const KnnSpec ivf = parse_knn_spec("ivf");
  EXPECT_EQ(ivf.kind, KnnKind::ivf);
  EXPECT_EQ(ivf.nlist, 0);
  EXPECT_TRUE(ivf.probes);
  const KnnSpec ivf_n = parse_knn_spec("ivf:4096");
  EXPECT_EQ(ivf_n.kind, KnnKind::ivf);
  EXPECT_EQ(ivf_n.nlist, 4096);
  const KnnSpec faiss_ivf = parse_knn_spec("IVF256,Flat");
  EXPECT_EQ(faiss_ivf.kind, KnnKind::faiss);
  EXPECT_TRUE(faiss_ivf.probes);
  EXPECT_FALSE(faiss_ivf.hnsw);
  const KnnSpec wrapped = parse_knn_spec("PCA64,IVF64,Flat");  // the IVF inside a pre-transform
  EXPECT_TRUE(wrapped.probes);
  const KnnSpec hnsw = parse_knn_spec("HNSW32");
  EXPECT_TRUE(hnsw.hnsw);
  EXPECT_FALSE(hnsw.probes);
  EXPECT_FALSE(parse_knn_spec("Flat").probes || parse_knn_spec("Flat").hnsw);
  for (const char* bad : {"", "ivf:", "ivf:x1", "ivf:0", "IVF,Nonsense"})
    EXPECT_NE(user_error_message([&] { parse_knn_spec(bad); }).find("--index"), std::string::npos) << bad;
}

TEST(KnnFactory, BuildsTheBackendTheSpecNames) {
  const int d = 16;
  std::vector<float> t = random_unit(2000, d, 7), q = random_unit(50, d, 8);
  const std::vector<std::int64_t> truth = brute_force(t, q, d, 5);
  KnnParams p;
  EXPECT_EQ(make_knn_index(parse_knn_spec("exact"), std::vector<float>(t), 2000, d, p)->search(q.data(), 50, 5).index,
            truth);
  auto flat = make_knn_index(parse_knn_spec("Flat"), std::vector<float>(t), 2000, d, p);
  EXPECT_NE(flat->describe().find("Flat"), std::string::npos) << flat->describe();
  // FAISS ranks by its own float sums: the same neighbours, possibly swapped where two scores
  // agree to the last bits.
  std::vector<std::int64_t> got = flat->search(q.data(), 50, 5).index, want = truth;
  for (int i = 0; i < 50; ++i) {
    std::sort(got.begin() + 5 * i, got.begin() + 5 * (i + 1));
    std::sort(want.begin() + 5 * i, want.begin() + 5 * (i + 1));
  }
  EXPECT_EQ(got, want);
  p.nprobe = 8;  // every list of ivf:8: exact
  auto ivf = make_knn_index(parse_knn_spec("ivf:8"), std::vector<float>(t), 2000, d, p);
  EXPECT_EQ(ivf->search(q.data(), 50, 5).index, truth);
  p.nprobe = 0;
  p.ef_search = 16;
  EXPECT_NE(user_error_message([&] {
              make_knn_index(parse_knn_spec("Flat"), std::vector<float>(t), 2000, d, p);
            }).find("--ef-search"),
            std::string::npos);
}

// The lists depend on the vectors alone (candidates rescored in double, ties by index), so the GPU
// scan gives exactly the CPU's lists, and the scores to float rounding of the same double sums.
TEST_F(CudaTest, ExactSearchOnTheGpuEqualsTheCpu_CUDA) {
  const int d = 64;
  std::vector<float> t = random_unit(20000, d, 11), q = random_unit(700, d, 12);
  const KnnBlock cpu = make_exact_knn(t, 20000, d, "cpu")->search(q.data(), 700, 10);
  const KnnBlock gpu = make_exact_knn(t, 20000, d, "cuda")->search(q.data(), 700, 10);
  EXPECT_EQ(gpu.index, cpu.index);
  EXPECT_EQ(gpu.score, cpu.score);
}

TEST_F(CudaTest, IvfOnTheGpuEqualsTheCpu_CUDA) {
  const int d = 32;
  std::vector<float> t = random_unit(10000, d, 13, 50), q = random_unit(300, d, 14, 50);
  IvfParams p;
  p.nlist = 64;
  p.nprobe = 8;
  const KnnBlock cpu = make_ivf_knn(t, 10000, d, p)->search(q.data(), 300, 10);
  p.device = "cuda";
  const KnnBlock gpu = make_ivf_knn(t, 10000, d, p)->search(q.data(), 300, 10);
  EXPECT_EQ(gpu.index, cpu.index);  // same centroids (trained on the CPU), same lists, same rescoring
}

}  // namespace
}  // namespace epe::test
