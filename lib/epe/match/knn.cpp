#include "epe/match/knn.h"

#include <faiss/AutoTune.h>
#include <faiss/IndexIVF.h>
#include <faiss/index_factory.h>
#include <torch/torch.h>

#include <algorithm>

#include "epe/core/error.h"
#include "epe/core/rng.h"
#include "epe/nn/device.h"

namespace epe {

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
    KnnBlock out;
    out.n = n;
    out.k = k;
    out.index.assign(n * k, -1);
    out.score.assign(n * k, -std::numeric_limits<float>::infinity());
    at::Tensor q = torch::from_blob(const_cast<float*>(queries), {n, d_}, torch::kFloat).to(device_);
    // Tiles of about 64 MiB of scores.
    const std::int64_t tile = std::max<std::int64_t>(1024, (16 << 20) / std::max<std::int64_t>(1, n));
    for (std::int64_t t0 = 0; t0 < n_; t0 += tile) {
      const std::int64_t t1 = std::min(n_, t0 + tile);
      at::Tensor s = torch::mm(q, targets_.slice(0, t0, t1).t());  // [n, t1 - t0]
      if (device_.is_cuda()) {
        // GPU: top-k of the tile, then merged on the CPU like a CPU tile.
        const int kk = static_cast<int>(std::min<std::int64_t>(k, t1 - t0));
        auto [v, i] = torch::topk(s, kk, 1, true, true);
        v = v.cpu().contiguous();
        i = i.cpu().contiguous();
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
  // Inserts (score, index) into row r's sorted top-k when it beats the worst entry. Targets are
  // visited in increasing index order, so a tie never displaces an earlier (smaller) index.
  static void insert(float s, std::int64_t idx, float* sc, std::int64_t* ix, int k) {
    if (!(s > sc[k - 1])) return;
    int p = k - 1;
    while (p > 0 && s > sc[p - 1]) {
      sc[p] = sc[p - 1];
      ix[p] = ix[p - 1];
      --p;
    }
    sc[p] = s;
    ix[p] = idx;
  }
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

}  // namespace

std::unique_ptr<KnnIndex> make_exact_knn(const std::vector<float>& targets, std::int64_t n, int d,
                                         const std::string& device) {
  return std::make_unique<ExactKnn>(targets, n, d, device);
}

std::unique_ptr<KnnIndex> make_faiss_knn(const std::vector<float>& targets, std::int64_t n, int d,
                                         const FaissParams& params) {
  return std::make_unique<FaissKnn>(targets, n, d, params);
}

}  // namespace epe
