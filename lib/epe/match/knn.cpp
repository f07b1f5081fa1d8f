#include "epe/match/knn.h"

#include <faiss/AutoTune.h>
#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVF.h>
#include <faiss/index_factory.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "epe/core/error.h"
#include "epe/core/rng.h"
#include "epe/nn/device.h"

namespace epe {

std::int64_t l2_normalize_rows(float* v, std::int64_t n, int d) {
  std::int64_t zeros = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    float* r = v + i * d;
    double ss = 0;
    for (int j = 0; j < d; ++j) ss += static_cast<double>(r[j]) * r[j];
    if (ss == 0) {
      ++zeros;
      continue;
    }
    const float inv = static_cast<float>(1.0 / std::sqrt(ss));
    for (int j = 0; j < d; ++j) r[j] *= inv;
  }
  return zeros;
}

KnnBlock KnnBlock::empty(std::int64_t n, std::int64_t k) {
  KnnBlock b;
  b.n = n;
  b.k = k;
  b.index.assign(n * k, -1);
  b.score.assign(n * k, -std::numeric_limits<float>::infinity());
  return b;
}

namespace {

class ExactKnn : public KnnIndex {
 public:
  ExactKnn(const std::vector<float>& targets, std::int64_t n, int d, const std::string& device)
      : n_(n), d_(d), device_(nn::parse_device(device)) {
    targets_ = torch::from_blob(const_cast<float*>(targets.data()), {n, d}, torch::kFloat).to(device_).clone();
  }

  KnnBlock search(const float* queries, std::int64_t n, int k) override {
    EPE_ASSERT(k >= 1 && k <= n_, "ExactKnn: k = ", k, " with ", n_, " targets");
    c10::InferenceMode guard;
    KnnBlock out = KnnBlock::empty(n, k);
    at::Tensor q = torch::from_blob(const_cast<float*>(queries), {n, d_}, torch::kFloat).to(device_);
    // Tiles of about 64 MiB of scores.
    const std::int64_t tile = std::max<std::int64_t>(256, (16 << 20) / std::max<std::int64_t>(1, n));
    for (std::int64_t t0 = 0; t0 < n_; t0 += tile) {
      const std::int64_t t1 = std::min(n_, t0 + tile);
      at::Tensor s = torch::mm(q, targets_.slice(0, t0, t1).t());  // [n, t1 - t0]
      if (device_.is_cuda()) {
        // GPU: the tile's k best by a stable descending sort (equal scores keep index order, which
        // topk does not promise), then merged on the CPU like a CPU tile.
        const int kk = static_cast<int>(std::min<std::int64_t>(k, t1 - t0));
        auto [v, i] = at::sort(s, /*stable=*/true, /*dim=*/1, /*descending=*/true);
        v = v.slice(1, 0, kk).cpu().contiguous();
        i = i.slice(1, 0, kk).cpu().contiguous();
        merge_sparse(v.data_ptr<float>(), i.data_ptr<int64_t>(), n, kk, t0, k, out);
      } else {
        s = s.contiguous();
        merge_dense(s.data_ptr<float>(), n, t1 - t0, t0, k, out);
      }
    }
    return out;
  }

  std::string describe() const override { return cat("exact (", device_.str(), ")"); }

 private:
  static bool better(float s, std::int64_t idx, float s2, std::int64_t idx2) {
    return s > s2 || (s == s2 && idx2 >= 0 && idx < idx2);
  }

 public:
  // Inserts (score, index) into a row's sorted top-k when it beats the worst entry; equal
  // scores are ordered by index, so the result does not depend on the visiting order.
  static void insert(float s, std::int64_t idx, float* sc, std::int64_t* ix, int k) {
    if (!better(s, idx, sc[k - 1], ix[k - 1])) return;
    int p = k - 1;
    while (p > 0 && better(s, idx, sc[p - 1], ix[p - 1])) {
      sc[p] = sc[p - 1];
      ix[p] = ix[p - 1];
      --p;
    }
    sc[p] = s;
    ix[p] = idx;
  }

 private:
  static void merge_dense(const float* s, std::int64_t n, std::int64_t w, std::int64_t offset, int k, KnnBlock& out) {
    at::parallel_for(0, n, 16, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t r = b; r < e; ++r) {
        float* sc = out.score.data() + r * k;
        std::int64_t* ix = out.index.data() + r * k;
        const float* row = s + r * w;
        for (std::int64_t j = 0; j < w; ++j)
          if (row[j] > sc[k - 1]) insert(row[j], offset + j, sc, ix, k);
      }
    });
  }
  static void merge_sparse(const float* v, const int64_t* i, std::int64_t n, int kk, std::int64_t offset, int k,
                           KnnBlock& out) {
    for (std::int64_t r = 0; r < n; ++r) {
      // topk's order among equal scores is unspecified: visit this tile's candidates by index.
      std::vector<std::pair<std::int64_t, float>> c;
      for (int j = 0; j < kk; ++j) c.emplace_back(i[r * kk + j], v[r * kk + j]);
      std::sort(c.begin(), c.end());
      for (auto& [idx, s] : c) insert(s, offset + idx, out.score.data() + r * k, out.index.data() + r * k, k);
    }
  }

  std::int64_t n_;
  int d_;
  c10::Device device_;
  at::Tensor targets_;
};

class FaissKnn : public KnnIndex {
 public:
  FaissKnn(const std::vector<float>& targets, std::int64_t n, int d, const FaissParams& p) : spec_(p.spec) {
    try {
      index_.reset(faiss::index_factory(d, p.spec.c_str(), faiss::METRIC_INNER_PRODUCT));
    } catch (const std::exception& e) {
      std::string what = e.what();
      throw UserError(cat("option --index: FAISS cannot build '", p.spec, "': ", what.substr(0, what.find('\n'))));
    }
    if (!index_->is_trained) {
      std::int64_t want = p.train_size;
      if (want <= 0) {
        std::int64_t nlist = 0;
        if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(index_.get())) nlist = static_cast<std::int64_t>(ivf->nlist);
        want = std::max<std::int64_t>(50 * nlist, 10000);
      }
      want = std::min(want, n);
      if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(index_.get()))
        EPE_CHECK(n >= static_cast<std::int64_t>(ivf->nlist), "option --index ", p.spec, ": ", ivf->nlist,
                  " lists need at least as many target crops, there are ", n);
      Rng rng(p.seed, 0x747261696eULL);  // "train"
      std::vector<std::int64_t> pick = rng.sample_without_replacement(n, want);
      std::vector<float> sample(static_cast<size_t>(want) * d);
      for (size_t i = 0; i < pick.size(); ++i) std::copy_n(targets.data() + pick[i] * d, d, sample.data() + i * d);
      try {
        index_->train(want, sample.data());
      } catch (const std::exception& e) {
        std::string what = e.what();
        throw UserError(cat("option --index ", p.spec, ": training failed: ", what.substr(0, what.find('\n'))));
      }
      trained_on_ = want;
    }
    index_->add(n, targets.data());
    faiss::ParameterSpace ps;
    if (p.nprobe > 0) {
      EPE_CHECK(dynamic_cast<faiss::IndexIVF*>(index_.get()) != nullptr || p.spec.find("IVF") != std::string::npos,
                "option --nprobe applies to IVF indices, not '", p.spec, "'");
      ps.set_index_parameter(index_.get(), "nprobe", p.nprobe);
      nprobe_ = p.nprobe;
    }
    if (p.ef_search > 0) {
      EPE_CHECK(p.spec.find("HNSW") != std::string::npos, "option --ef-search applies to HNSW indices, not '", p.spec,
                "'");
      ps.set_index_parameter(index_.get(), "efSearch", p.ef_search);
      ef_ = p.ef_search;
    }
  }

  KnnBlock search(const float* queries, std::int64_t n, int k) override {
    KnnBlock out;
    out.n = n;
    out.k = k;
    out.index.resize(n * k);
    out.score.resize(n * k);
    std::vector<faiss::Index::idx_t> labels(n * k);
    index_->search(n, queries, k, out.score.data(), labels.data());
    for (std::int64_t i = 0; i < n * k; ++i) {
      out.index[i] = labels[i];
      if (labels[i] < 0) out.score[i] = -std::numeric_limits<float>::infinity();
    }
    return out;
  }

  std::string describe() const override {
    std::string s = cat("faiss ", spec_);
    if (trained_on_) s += cat(", trained on ", trained_on_);
    if (nprobe_) s += cat(", nprobe ", nprobe_);
    if (ef_) s += cat(", efSearch ", ef_);
    return s;
  }

 private:
  std::string spec_;
  std::unique_ptr<faiss::Index> index_;
  std::int64_t trained_on_ = 0;
  int nprobe_ = 0, ef_ = 0;
};

class IvfKnn : public KnnIndex {
 public:
  IvfKnn(const std::vector<float>& targets, std::int64_t n, int d, const IvfParams& p)
      : d_(d), nprobe_(p.nprobe), device_(nn::parse_device(p.device)), quantizer_(d) {
    nlist_ = p.nlist > 0 ? p.nlist
                         : static_cast<int>(std::min<double>(
                               double(n), std::max<double>(1.0, std::round(4.0 * std::sqrt(double(n))))));
    EPE_CHECK(nlist_ <= n, "option --index ivf:", nlist_, ": more lists than the ", n, " target crops");
    EPE_CHECK(nprobe_ >= 1 && nprobe_ <= nlist_, "option --nprobe ", nprobe_, ": must be 1..", nlist_);
    std::int64_t want = p.train_size > 0 ? p.train_size : 32LL * nlist_;
    want = std::min(want, n);
    EPE_CHECK(want >= nlist_, "option --train-size ", want, ": k-means needs at least as many points as lists (",
              nlist_, ")");
    Rng rng(p.seed, 0x747261696eULL);  // "train"
    std::vector<std::int64_t> pick = rng.sample_without_replacement(n, want);
    std::vector<float> sample(static_cast<size_t>(want) * d);
    for (size_t i = 0; i < pick.size(); ++i) std::copy_n(targets.data() + pick[i] * d, d, sample.data() + i * d);
    faiss::ClusteringParameters cp;
    cp.niter = p.niter;
    cp.spherical = true;
    cp.min_points_per_centroid = 16;  // FAISS warns below this many points per list
    cp.seed = static_cast<int>(p.seed % 2147483647);
    cp.max_points_per_centroid = static_cast<int>(std::max<std::int64_t>(256, want / nlist_ + 1));
    faiss::Clustering km(d, nlist_, cp);
    km.train(want, sample.data(), quantizer_);
    trained_on_ = want;
    // Assign every target to its nearest centroid; lay the lists out contiguously.
    std::vector<faiss::Index::idx_t> list(n);
    std::vector<float> dist(n);
    quantizer_.search(n, targets.data(), 1, dist.data(), list.data());
    offsets_.assign(nlist_ + 1, 0);
    for (auto l : list) ++offsets_[l + 1];
    for (int l = 0; l < nlist_; ++l) offsets_[l + 1] += offsets_[l];
    ids_.resize(n);
    std::vector<std::int64_t> fill(offsets_.begin(), offsets_.end() - 1);
    at::Tensor grouped = torch::empty({n, d}, torch::kFloat);
    float* g = grouped.data_ptr<float>();
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t pos = fill[list[i]]++;
      ids_[pos] = i;
      std::copy_n(targets.data() + i * d, d, g + pos * d);
    }
    grouped_ = grouped.to(device_);
  }

  KnnBlock search(const float* queries, std::int64_t n, int k) override {
    c10::InferenceMode guard;
    KnnBlock out = KnnBlock::empty(n, k);
    std::vector<faiss::Index::idx_t> probe(n * nprobe_);
    std::vector<float> pd(n * nprobe_);
    quantizer_.search(n, queries, nprobe_, pd.data(), probe.data());
    // Queries of each list (CSR).
    std::vector<std::int64_t> qoff(nlist_ + 1, 0), qid(n * nprobe_);
    for (auto l : probe)
      if (l >= 0) ++qoff[l + 1];
    for (int l = 0; l < nlist_; ++l) qoff[l + 1] += qoff[l];
    std::vector<std::int64_t> fill(qoff.begin(), qoff.end() - 1);
    for (std::int64_t i = 0; i < n * nprobe_; ++i)
      if (probe[i] >= 0) qid[fill[probe[i]]++] = i / nprobe_;
    at::Tensor q = torch::from_blob(const_cast<float*>(queries), {n, d_}, torch::kFloat);
    for (int l = 0; l < nlist_; ++l) {
      const std::int64_t q0 = qoff[l], q1 = qoff[l + 1], t0 = offsets_[l], t1 = offsets_[l + 1];
      if (q0 == q1 || t0 == t1) continue;
      at::Tensor rows = torch::from_blob(qid.data() + q0, {q1 - q0}, torch::kLong);
      at::Tensor s = torch::mm(q.index_select(0, rows).to(device_), grouped_.slice(0, t0, t1).t()).cpu().contiguous();
      const float* sp = s.data_ptr<float>();
      const std::int64_t w = t1 - t0;
      at::parallel_for(q0, q1, 64, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t r = b; r < e; ++r) {
          const std::int64_t query = qid[r];
          float* sc = out.score.data() + query * k;
          std::int64_t* ix = out.index.data() + query * k;
          const float* row = sp + (r - q0) * w;
          for (std::int64_t j = 0; j < w; ++j)
            if (row[j] >= sc[k - 1]) ExactKnn::insert(row[j], ids_[t0 + j], sc, ix, k);
        }
      });
    }
    return out;
  }

  std::string describe() const override {
    return cat("ivf ", nlist_, " lists (k-means on ", trained_on_, "), nprobe ", nprobe_, ", GEMM scan (",
               device_.str(), ")");
  }

 private:
  int d_, nlist_ = 0, nprobe_;
  c10::Device device_;
  faiss::IndexFlatIP quantizer_;
  std::vector<std::int64_t> offsets_, ids_;
  at::Tensor grouped_;
  std::int64_t trained_on_ = 0;
};

}  // namespace

std::unique_ptr<KnnIndex> make_ivf_knn(const std::vector<float>& targets, std::int64_t n, int d, const IvfParams& p) {
  return std::make_unique<IvfKnn>(targets, n, d, p);
}

std::unique_ptr<KnnIndex> make_exact_knn(const std::vector<float>& targets, std::int64_t n, int d,
                                         const std::string& device) {
  return std::make_unique<ExactKnn>(targets, n, d, device);
}

std::unique_ptr<KnnIndex> make_faiss_knn(const std::vector<float>& targets, std::int64_t n, int d,
                                         const FaissParams& params) {
  return std::make_unique<FaissKnn>(targets, n, d, params);
}

}  // namespace epe
