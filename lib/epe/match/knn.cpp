#include "epe/match/knn.h"

#include <faiss/AutoTune.h>
#include <faiss/Clustering.h>
#include <faiss/IVFlib.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/index_factory.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>

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

// Exact top-k from matrix-product scores. A GEMM's float sum for one pair can differ in its last
// bits with the shape of the product (tiles, blocks, shards, CPU or GPU), which would reorder
// near-ties. So the GEMM scores only select candidates: a query's candidates are rescored by a
// fixed-order double dot product rounded to float, and ranked by that score, then by the
// smaller index. The result depends on the vectors alone, never on how the scan was cut.
//
// Each query keeps its k best rescored candidates and up to 2k + 64 pending GEMM candidates; when
// the pending ones fill up they are thinned by their GEMM scores, rescored and merged, and the
// threshold becomes the k-th best rescored score minus `slack` (4·d·2^-24·|q|·max|t|: more than
// twice a d-term float sum's rounding error plus one float step), below which no GEMM score can
// belong to a better candidate. Memory stays 3k + 64 candidates per query even when thousands of
// targets tie (an all-zero query, duplicated crops).
class Candidates {
 public:
  using Target = std::function<const float*(std::int64_t)>;
  Candidates(const float* queries, std::int64_t n, int k, int d, float target_norm, Target target)
      : queries_(queries),
        n_(n),
        k_(k),
        d_(d),
        cap_(2 * k + 64),
        target_(std::move(target)),
        best_(n),
        pending_(n),
        thr_(n, -std::numeric_limits<float>::infinity()),
        slack_(n) {
    for (std::int64_t i = 0; i < n; ++i) {
      double ss = 0;
      for (int j = 0; j < d; ++j) ss += static_cast<double>(queries[i * d + j]) * queries[i * d + j];
      slack_[i] = static_cast<float>(4.0 * d * std::ldexp(1.0, -24) * std::sqrt(ss) * target_norm);
    }
  }
  float threshold(std::int64_t r) const { return thr_[r]; }
  float slack(std::int64_t r) const { return slack_[r]; }
  // One query's rows are offered from one thread at a time.
  void offer(std::int64_t r, float gemm_score, std::int64_t index) {
    if (gemm_score < thr_[r]) return;
    pending_[r].emplace_back(gemm_score, index);
    if (static_cast<int>(pending_[r].size()) >= cap_) flush(r);
  }
  KnnBlock finish() {
    KnnBlock out = KnnBlock::empty(n_, k_);
    at::parallel_for(0, n_, 16, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t r = b; r < e; ++r) {
        flush(r);
        for (std::size_t j = 0; j < best_[r].size(); ++j) {
          out.score[r * k_ + static_cast<std::int64_t>(j)] = best_[r][j].first;
          out.index[r * k_ + static_cast<std::int64_t>(j)] = best_[r][j].second;
        }
      }
    });
    return out;
  }

 private:
  // Rescores the pending candidates, keeps the k best and raises the threshold. Pending ones more
  // than `slack` below the k-th best pending GEMM score are beaten by k others whatever their
  // exact scores, so they go without being rescored.
  void flush(std::int64_t r) {
    auto& best = best_[r];
    auto& pending = pending_[r];
    if (static_cast<int>(pending.size()) > k_) {
      std::nth_element(pending.begin(), pending.begin() + (k_ - 1), pending.end(),
                       [](const auto& a, const auto& b) { return a.first > b.first; });
      const float cut = pending[static_cast<std::size_t>(k_ - 1)].first - slack_[r];
      pending.erase(std::remove_if(pending.begin(), pending.end(), [cut](const auto& a) { return a.first < cut; }),
                    pending.end());
    }
    const float* q = queries_ + r * d_;
    for (const auto& [gemm, id] : pending) {
      const float* t = target_(id);
      double x = 0;
      for (int j = 0; j < d_; ++j) x += static_cast<double>(q[j]) * t[j];
      best.emplace_back(static_cast<float>(x), id);
    }
    pending.clear();
    std::sort(best.begin(), best.end(), [](const auto& a, const auto& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    if (static_cast<int>(best.size()) > k_) best.resize(static_cast<std::size_t>(k_));
    if (static_cast<int>(best.size()) == k_) thr_[r] = std::max(thr_[r], best.back().first - slack_[r]);
  }

  const float* queries_;
  std::int64_t n_;
  int k_, d_, cap_;
  Target target_;
  std::vector<std::vector<std::pair<float, std::int64_t>>> best_;     // rescored, best first, at most k
  std::vector<std::vector<std::pair<float, std::int64_t>>> pending_;  // GEMM score and id, not yet rescored
  std::vector<float> thr_, slack_;
};

float max_norm(const float* v, std::int64_t n, int d) {
  double m = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    double ss = 0;
    for (int j = 0; j < d; ++j) ss += static_cast<double>(v[i * d + j]) * v[i * d + j];
    m = std::max(m, ss);
  }
  return static_cast<float>(std::sqrt(m));
}

// Offers a GPU score tile [n, w] (targets t0..t0+w) to the candidates: each row's entries
// within slack of the tile's k-th best, found by a descending sort.
void offer_gpu_tile(const at::Tensor& s, std::int64_t t0, int k, Candidates& c) {
  const std::int64_t n = s.size(0), w = s.size(1);
  auto [v, i] = at::sort(s, /*stable=*/true, /*dim=*/1, /*descending=*/true);
  std::int64_t take = w;
  if (w > k) {
    std::vector<float> sl(n);
    for (std::int64_t r = 0; r < n; ++r) sl[r] = c.slack(r);
    at::Tensor slack = torch::from_blob(sl.data(), {n, 1}, torch::kFloat).to(s.device());
    at::Tensor keep = v >= (v.slice(1, k - 1, k) - slack);
    take = keep.sum(1).max().item<std::int64_t>();
  }
  v = v.slice(1, 0, take).cpu().contiguous();
  i = i.slice(1, 0, take).cpu().contiguous();
  const float* vp = v.data_ptr<float>();
  const std::int64_t* ip = i.data_ptr<std::int64_t>();
  for (std::int64_t r = 0; r < n; ++r)
    for (std::int64_t j = 0; j < take; ++j) c.offer(r, vp[r * take + j], t0 + ip[r * take + j]);
}

class ExactKnn : public KnnIndex {
 public:
  ExactKnn(std::vector<float> targets, std::int64_t n, int d, const std::string& device)
      : n_(n), d_(d), device_(nn::parse_device(device)), storage_(std::move(targets)) {
    // The host copy is kept for the final rescoring; on the CPU the tensor views it.
    targets_ = torch::from_blob(storage_.data(), {n, d}, torch::kFloat);
    if (device_.is_cuda()) targets_ = targets_.to(device_);
    norm_ = max_norm(storage_.data(), n, d);
  }

  KnnBlock search(const float* queries, std::int64_t n, int k) override {
    EPE_ASSERT(k >= 1 && k <= n_, "ExactKnn: k = ", k, " with ", n_, " targets");
    c10::InferenceMode guard;
    Candidates cand(queries, n, k, d_, norm_, [this](std::int64_t id) { return storage_.data() + id * d_; });
    at::Tensor q = torch::from_blob(const_cast<float*>(queries), {n, d_}, torch::kFloat).to(device_);
    if (device_.is_cuda()) {
      // Tiles of about 64 MiB of scores.
      const std::int64_t tile = std::max<std::int64_t>(256, (16 << 20) / std::max<std::int64_t>(1, n));
      for (std::int64_t t0 = 0; t0 < n_; t0 += tile) {
        const std::int64_t t1 = std::min(n_, t0 + tile);
        offer_gpu_tile(torch::mm(q, targets_.slice(0, t0, t1).t()), t0, k, cand);
      }
      return cand.finish();
    }
    // CPU: tiles of 64 MiB of scores (up to 16384 queries x 1024 targets), all written into one
    // buffer. A fresh tensor per product spent more time in page faults than in the product;
    // smaller tiles lose to the hand-over between BLAS's threads and the OpenMP threads that
    // scan the scores (each side spins while the other works).
    const std::int64_t rows = std::min<std::int64_t>(n, 16384);
    const std::int64_t tile = std::min<std::int64_t>(n_, std::max<std::int64_t>(256, (16 << 20) / rows));
    at::Tensor buf = at::empty({rows * tile}, torch::kFloat);
    for (std::int64_t r0 = 0; r0 < n; r0 += rows) {
      const std::int64_t r1 = std::min(n, r0 + rows);
      const at::Tensor qr = q.slice(0, r0, r1);
      for (std::int64_t t0 = 0; t0 < n_; t0 += tile) {
        const std::int64_t t1 = std::min(n_, t0 + tile), w = t1 - t0;
        at::Tensor s = buf.narrow(0, 0, (r1 - r0) * w).view({r1 - r0, w});
        at::mm_out(s, qr, targets_.slice(0, t0, t1).t());
        const float* sp = s.data_ptr<float>();
        at::parallel_for(r0, r1, 16, [&](std::int64_t b, std::int64_t e) {
          for (std::int64_t r = b; r < e; ++r) {
            const float* row = sp + (r - r0) * w;
            float thr = cand.threshold(r);  // only rises, and only when this thread offers
            for (std::int64_t j = 0; j < w; ++j)
              if (row[j] >= thr) {
                cand.offer(r, row[j], t0 + j);
                thr = cand.threshold(r);
              }
          }
        });
      }
    }
    return cand.finish();
  }

  std::string describe() const override { return cat("exact (", device_.str(), ")"); }

  static bool better(float s, std::int64_t idx, float s2, std::int64_t idx2) {
    return s > s2 || (s == s2 && idx2 >= 0 && idx < idx2);
  }
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
  std::int64_t n_;
  int d_;
  c10::Device device_;
  std::vector<float> storage_;
  at::Tensor targets_;
  float norm_ = 0;
};

// Whether a FAISS index is an HNSW graph (its efSearch applies); FAISS's factory may wrap it in
// a pre-transform (e.g. "PCA64,HNSW32").
bool is_hnsw(const faiss::Index* index) {
  if (auto* t = dynamic_cast<const faiss::IndexPreTransform*>(index)) return is_hnsw(t->index);
  return dynamic_cast<const faiss::IndexHNSW*>(index) != nullptr;
}

std::unique_ptr<faiss::Index> build_factory_index(int d, const std::string& spec) {
  try {
    return std::unique_ptr<faiss::Index>(faiss::index_factory(d, spec.c_str(), faiss::METRIC_INNER_PRODUCT));
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw UserError(cat("option --index: FAISS cannot build '", spec, "': ", what.substr(0, what.find('\n'))));
  }
}

class FaissKnn : public KnnIndex {
 public:
  FaissKnn(const std::vector<float>& targets, std::int64_t n, int d, const FaissParams& p) : spec_(p.spec) {
    index_ = build_factory_index(d, p.spec);
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
      EPE_CHECK(faiss::ivflib::try_extract_index_ivf(index_.get()) != nullptr,
                "option --nprobe applies to IVF indices, not '", p.spec, "'");
      ps.set_index_parameter(index_.get(), "nprobe", p.nprobe);
      nprobe_ = p.nprobe;
    }
    if (p.ef_search > 0) {
      EPE_CHECK(is_hnsw(index_.get()), "option --ef-search applies to HNSW indices, not '", p.spec, "'");
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
    pos_of_id_.resize(n);
    for (std::int64_t pos = 0; pos < n; ++pos) pos_of_id_[ids_[pos]] = pos;
    norm_ = max_norm(targets.data(), n, d);
    grouped_host_ = grouped;  // for the final rescoring (the same tensor on the CPU)
    grouped_ = grouped.to(device_);
  }

  KnnBlock search(const float* queries, std::int64_t n, int k) override {
    c10::InferenceMode guard;
    const float* g = grouped_host_.data_ptr<float>();
    Candidates cand(queries, n, k, d_, norm_, [this, g](std::int64_t id) { return g + pos_of_id_[id] * d_; });
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
          // A query probes a list once, so no two threads touch one query here.
          const std::int64_t query = qid[r];
          const float* row = sp + (r - q0) * w;
          for (std::int64_t j = 0; j < w; ++j)
            if (row[j] >= cand.threshold(query)) cand.offer(query, row[j], ids_[t0 + j]);
        }
      });
    }
    return cand.finish();
  }

  std::string describe() const override {
    return cat("ivf ", nlist_, " lists (k-means on ", trained_on_, "), nprobe ", nprobe_, ", GEMM scan (",
               device_.str(), ")");
  }

 private:
  int d_, nlist_ = 0, nprobe_;
  c10::Device device_;
  faiss::IndexFlatIP quantizer_;
  std::vector<std::int64_t> offsets_, ids_, pos_of_id_;
  at::Tensor grouped_, grouped_host_;
  std::int64_t trained_on_ = 0;
  float norm_ = 0;
};

}  // namespace

std::unique_ptr<KnnIndex> make_ivf_knn(const std::vector<float>& targets, std::int64_t n, int d, const IvfParams& p) {
  return std::make_unique<IvfKnn>(targets, n, d, p);
}

std::unique_ptr<KnnIndex> make_exact_knn(const std::vector<float>& targets, std::int64_t n, int d,
                                         const std::string& device) {
  return std::make_unique<ExactKnn>(targets, n, d, device);
}

std::unique_ptr<KnnIndex> make_exact_knn(std::vector<float>&& targets, std::int64_t n, int d,
                                         const std::string& device) {
  return std::make_unique<ExactKnn>(std::move(targets), n, d, device);
}

void knn_insert(float score, std::int64_t index, float* sc, std::int64_t* ix, int k) {
  ExactKnn::insert(score, index, sc, ix, k);
}

std::unique_ptr<KnnIndex> make_faiss_knn(const std::vector<float>& targets, std::int64_t n, int d,
                                         const FaissParams& params) {
  return std::make_unique<FaissKnn>(targets, n, d, params);
}

KnnSpec parse_knn_spec(const std::string& text) {
  KnnSpec s;
  s.text = text;
  EPE_CHECK(!text.empty(), "option --index: empty (use exact, ivf, ivf:NLIST or a FAISS factory string)");
  if (text == "exact") return s;
  if (text == "ivf" || text.rfind("ivf:", 0) == 0) {
    s.kind = KnnKind::ivf;
    s.probes = true;
    if (text.size() > 3) {
      const std::string n = text.substr(4);
      EPE_CHECK(!n.empty() && n.find_first_not_of("0123456789") == std::string::npos && n.size() < 9, "option --index ",
                text, ": expected ivf or ivf:NLIST (e.g. ivf:4096)");
      s.nlist = std::stoi(n);
      EPE_CHECK(s.nlist >= 1, "option --index ", text, ": NLIST must be >= 1");
    }
    return s;
  }
  s.kind = KnnKind::faiss;
  // The dimension does not change what the string builds; 512 is relu5_3's (and divisible by
  // the PQ/OPQ sizes FAISS strings use).
  const std::unique_ptr<faiss::Index> probe = build_factory_index(512, text);
  s.probes = faiss::ivflib::try_extract_index_ivf(probe.get()) != nullptr;
  s.hnsw = is_hnsw(probe.get());
  return s;
}

std::unique_ptr<KnnIndex> make_knn_index(const KnnSpec& spec, std::vector<float>&& targets, std::int64_t n, int d,
                                         const KnnParams& params) {
  switch (spec.kind) {
    case KnnKind::exact:
      return make_exact_knn(std::move(targets), n, d, params.device);
    case KnnKind::ivf: {
      IvfParams p;
      p.nlist = spec.nlist;
      p.nprobe = params.nprobe > 0 ? params.nprobe : 32;
      p.train_size = params.train_size;
      p.seed = params.seed;
      p.device = params.device;
      return make_ivf_knn(targets, n, d, p);
    }
    case KnnKind::faiss: {
      FaissParams p;
      p.spec = spec.text;
      p.nprobe = params.nprobe;
      p.ef_search = params.ef_search;
      p.train_size = params.train_size;
      p.seed = params.seed;
      return make_faiss_knn(targets, n, d, p);
    }
  }
  throw InternalError("make_knn_index: unknown KnnKind");
}

}  // namespace epe
