#pragma once
// Nearest-neighbour search by inner product on unit vectors (cosine similarity).
//
// ExactKnn is the default backend: the target matrix stays in memory and each block of queries
// is scored tile by tile with one matrix product (BLAS on the CPU, cuBLAS with --device cuda),
// keeping every candidate near the k best per query. The candidates are then rescored by a
// fixed-order double dot product (rounded to float) and ranked by that score, ties by the smaller
// target index: the lists depend on the vectors alone, not on tile or block shapes, shards or
// the device (a GEMM's float sums differ in their last bits between those), so they equal a
// brute-force scan and a sharded search merges into exactly the unsharded one. FaissKnn wraps
// any FAISS index-factory string (IVF, HNSW, PQ, ...) with inner-product metric. IvfKnn is an
// inverted-file index scanned with
// matrix products, for large sets on CPUs where FAISS's scanner is slow; it rescores its
// candidates like the exact search (so probing every list gives the exact lists).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace epe {

// Scales each row of v ([n, d], row-major) to unit length; all-zero rows stay zero. Returns
// their number.
std::int64_t l2_normalize_rows(float* v, std::int64_t n, int d);

struct KnnBlock {
  std::int64_t n = 0, k = 0;
  std::vector<std::int64_t> index;  // [n, k]; -1 when the index found fewer than k neighbours
  std::vector<float> score;         // [n, k] inner products, best first
  // n x k entries with index -1 and score -infinity, to be filled best first.
  static KnnBlock empty(std::int64_t n, std::int64_t k);
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
// The same, taking the targets over (no copy on the CPU, so memory is the targets once).
std::unique_ptr<KnnIndex> make_exact_knn(std::vector<float>&& targets, std::int64_t n, int d,
                                         const std::string& device);

// The exact search's order: (score, index) beats (score2, index2) when score > score2, or the
// scores are equal and index < index2 (index2 = -1 marks an empty slot). Inserts the pair into
// one query's lists sc[k], ix[k] (best first) when it beats the worst entry. The result does
// not depend on the order pairs are visited in, which makes tiles, shards and merges exact.
void knn_insert(float score, std::int64_t index, float* sc, std::int64_t* ix, int k);

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

struct IvfParams {
  int nlist = 0;                // lists (k-means centroids); 0 = about 4 sqrt(n)
  int nprobe = 32;              // lists scanned per query
  std::int64_t train_size = 0;  // k-means sample (0 = min(n, 32 x nlist))
  int niter = 10;               // k-means iterations
  std::uint64_t seed = 0;
  std::string device = "cpu";
};
// An inverted-file index whose lists are scanned with matrix products: queries are grouped by
// the lists they probe and each list is scored against its group with one GEMM (BLAS), with the
// same top-k merge and tie rule as the exact backend. Centroids: FAISS spherical k-means on a
// seeded sample. Approximate like any IVF; recall grows with nprobe. (Debian's FAISS is built
// without SIMD, so its own IVF scanner computes inner products one float at a time.)
std::unique_ptr<KnnIndex> make_ivf_knn(const std::vector<float>& targets, std::int64_t n, int d, const IvfParams& p);

// ---------------------------------------------------------------- the factory
// What `--index` names, parsed once (FAISS's index_factory is the model): every caller asks the
// spec what it is instead of looking into the string.
enum class KnnKind {
  exact,  // "exact": the tiled exact search (CPU or CUDA)
  ivf,    // "ivf" or "ivf:NLIST": the GEMM-scanned inverted file (CPU or CUDA)
  faiss,  // any other string: a FAISS index-factory string (CPU only)
};

struct KnnSpec {
  KnnKind kind = KnnKind::exact;
  int nlist = 0;        // kind ivf: lists (0 = automatic, about 4 sqrt(n))
  std::string text;     // the string as given (the FAISS factory string for kind faiss)
  bool probes = false;  // --nprobe applies: kind ivf, or a FAISS index with an IVF inside
  bool hnsw = false;    // --ef-search applies: a FAISS HNSW index
  bool approximate() const { return kind != KnnKind::exact; }
};

// Parses `--index`: "exact", "ivf", "ivf:NLIST" or a FAISS factory string (which FAISS builds
// once, untrained, to validate it and to learn whether it probes lists or is an HNSW graph).
// UserError naming `--index` for an empty, malformed or unbuildable string.
KnnSpec parse_knn_spec(const std::string& text);

// The search parameters `epe match` passes to every backend; each applies where it means
// something (KnnSpec::probes / hnsw) and is an error elsewhere.
struct KnnParams {
  int nprobe = 0;               // lists probed (0 = the backend's default: 32 for ivf)
  int ef_search = 0;            // HNSW efSearch (0 = FAISS default)
  std::int64_t train_size = 0;  // training sample of approximate indices (0 = automatic)
  std::uint64_t seed = 0;       // training sample choice
  std::string device = "cpu";   // "cpu" | "cuda[:i]" (kind faiss: cpu only)
};

// Builds the index `spec` names over targets ([n, d] row-major unit vectors, taken over: the
// exact search keeps them without a copy, the others free them once built).
std::unique_ptr<KnnIndex> make_knn_index(const KnnSpec& spec, std::vector<float>&& targets, std::int64_t n, int d,
                                         const KnnParams& params);

}  // namespace epe
