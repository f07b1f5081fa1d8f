#pragma once
// Nearest-neighbour search by inner product on unit vectors (cosine similarity).
//
// ExactKnn is the default backend: the target matrix stays in memory and each block of queries
// is scored tile by tile with one matrix product (BLAS on the CPU, cuBLAS with --device cuda),
// keeping the k best per query. Ties are broken by the smaller target index, so results are
// deterministic and equal to a brute-force scan. FaissKnn wraps any FAISS index-factory string
// (IVF, HNSW, PQ, ...) with inner-product metric.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace epe {

struct KnnBlock {
  std::int64_t n = 0, k = 0;
  std::vector<std::int64_t> index;  // [n, k]; -1 when the index found fewer than k neighbours
  std::vector<float> score;         // [n, k] inner products, best first
};

class KnnIndex {
 public:
  virtual ~KnnIndex() = default;
  // Queries: [n, d] row-major unit vectors.
  virtual KnnBlock search(const float* queries, std::int64_t n, int k) = 0;
  virtual std::string describe() const = 0;
};

// targets: [n, d] row-major, copied. device: "cpu" | "cuda[:i]".
std::unique_ptr<KnnIndex> make_exact_knn(const std::vector<float>& targets, std::int64_t n, int d,
                                         const std::string& device);

struct FaissParams {
  std::string spec;             // index-factory string, e.g. "IVF4096,Flat", "HNSW32", "IVF1024,PQ64"
  int nprobe = 0;               // IVF probes (0 = FAISS default)
  int ef_search = 0;            // HNSW efSearch (0 = FAISS default)
  std::int64_t train_size = 0;  // training sample (0 = automatic: min(n, max(50 x nlist, 10000)))
  std::uint64_t seed = 0;       // training sample choice
};
// Builds, trains (on a seeded sample) and fills a FAISS index. UserError for an invalid
// factory string (FAISS's message included) or a set too small to train it.
std::unique_ptr<KnnIndex> make_faiss_knn(const std::vector<float>& targets, std::int64_t n, int d,
                                         const FaissParams& params);

}  // namespace epe
