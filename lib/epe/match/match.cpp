#include "epe/match/match.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/half.h"
#include "epe/core/log.h"
#include "epe/core/progress.h"
#include "epe/core/sha256.h"
#include "epe/crops/crop_store.h"
#include "epe/io/h5.h"
#include "epe/match/knn.h"

namespace fs = std::filesystem;

namespace epe {

namespace {

// Reads crop features [b, b + n) as float32, feeding their float16 bytes to `hash` (rows must
// be read in order for the hash to be the store's features_sha256()).
std::vector<float> read_block(const CropStore& s, std::int64_t b, std::int64_t n, Sha256* hash) {
  std::vector<std::uint16_t> h = s.features_f16(b, n);
  if (hash) hash->update(h.data(), h.size() * 2);
  std::vector<float> f(h.size());
  half_to_float(h.data(), f.data(), h.size());
  return f;
}

// Checks for non-finite values, subtracts `mean` (if any) and scales rows to unit length;
// returns the number of all-zero rows (left zero).
std::int64_t normalize_rows(std::vector<float>& f, int d, const std::vector<double>& mean, const CropStore& s,
                            std::int64_t first) {
  const std::int64_t n = static_cast<std::int64_t>(f.size()) / d;
  for (std::int64_t i = 0; i < n; ++i) {
    float* r = f.data() + i * d;
    for (int j = 0; j < d; ++j) {
      EPE_CHECK(std::isfinite(r[j]), "'", s.path(), "': crop ", first + i, " has a non-finite feature");
      if (!mean.empty()) r[j] = static_cast<float>(r[j] - mean[j]);
    }
  }
  return l2_normalize_rows(f.data(), n, d);
}

}  // namespace

void MatchOptions::check() const {
  EPE_CHECK(!src.empty(), "option --src is required");
  EPE_CHECK(!dst.empty(), "option --dst is required");
  EPE_CHECK(!out.empty(), "option --out is required");
  EPE_CHECK(k >= 1, "option -k: must be >= 1, got ", k);
  EPE_CHECK(min_cosine >= -1.0 && min_cosine <= 1.0, "option --min-cosine: ", min_cosine,
            " is outside [-1, 1] (cosine similarities lie there)");
  EPE_CHECK(block >= 1, "option --block: must be >= 1");
  EPE_CHECK(nprobe >= 0 && ef_search >= 0 && train_size >= 0,
            "options --nprobe, --ef-search, --train-size: must be >= 0");
  EPE_CHECK(!index.empty(), "option --index: empty (use exact, ivf or a FAISS factory string)");
  const bool ivf = index == "ivf" || index.rfind("ivf:", 0) == 0;
  EPE_CHECK(index != "exact" || (nprobe == 0 && ef_search == 0 && train_size == 0),
            "options --nprobe/--ef-search/--train-size apply to approximate indices, not --index exact");
  EPE_CHECK(!ivf || ef_search == 0, "option --ef-search applies to FAISS HNSW indices, not --index ", index);
  EPE_CHECK(index == "exact" || ivf || device == "cpu", "option --device ", device,
            ": this FAISS build has no GPU indices; with a GPU use --index exact or ivf (LibTorch backends)");
  if (ivf && index.size() > 4) {
    const std::string n = index.substr(4);
    EPE_CHECK(!n.empty() && n.find_first_not_of("0123456789") == std::string::npos && n.size() < 9, "option --index ",
              index, ": expected ivf or ivf:NLIST (e.g. ivf:4096)");
  }
}

MatchResult compute_matches(const MatchOptions& o, Progress* progress) {
  o.check();
  const auto t0 = std::chrono::steady_clock::now();
  check_output_path(o.out, o.force);
  CropStore src(o.src), dst(o.dst);
  const int d = src.dim();
  EPE_CHECK(dst.dim() == d, "feature dimensions differ: '", o.src, "' has ", d, ", '", o.dst, "' has ", dst.dim());
  EPE_CHECK(src.size() > 0, "'", o.src, "' has no crops");
  EPE_CHECK(o.k <= dst.size(), "option -k: ", o.k, " neighbours requested but '", o.dst, "' has only ", dst.size(),
            " crops");
  if (src.meta().weights != dst.meta().weights || src.meta().layer != dst.meta().layer)
    log_warn("the two crop stores come from different networks (", src.meta().weights, " / ", dst.meta().weights,
             "); their features may not be comparable");

  MatchResult res;
  res.n_src = src.size();
  res.n_dst = dst.size();
  res.k = o.k;
  const std::int64_t read_block_rows = 65536;

  std::vector<double> mean;
  if (o.center) {
    mean.assign(d, 0.0);
    for (const CropStore* s : {&src, &dst})
      for (std::int64_t b = 0; b < s->size(); b += read_block_rows) {
        std::vector<float> f = read_block(*s, b, std::min(read_block_rows, s->size() - b), nullptr);
        for (size_t i = 0; i < f.size(); ++i) mean[i % d] += f[i];
      }
    for (double& m : mean) m /= static_cast<double>(src.size() + dst.size());
  }

  // Targets in memory, normalised.
  Sha256 dst_hash;
  std::vector<float> targets;
  targets.reserve(static_cast<size_t>(dst.size()) * d);
  for (std::int64_t b = 0; b < dst.size(); b += read_block_rows) {
    const std::int64_t n = std::min(read_block_rows, dst.size() - b);
    std::vector<float> f = read_block(dst, b, n, &dst_hash);
    res.zero_vectors += normalize_rows(f, d, mean, dst, b);
    targets.insert(targets.end(), f.begin(), f.end());
  }
  std::unique_ptr<KnnIndex> index;
  if (o.index == "exact") {
    index = make_exact_knn(targets, dst.size(), d, o.device);
  } else if (o.index == "ivf" || o.index.rfind("ivf:", 0) == 0) {
    IvfParams p;
    p.nlist = o.index.size() > 4 ? std::stoi(o.index.substr(4)) : 0;
    p.nprobe = o.nprobe > 0 ? o.nprobe : 32;
    p.train_size = o.train_size;
    p.seed = o.seed;
    p.device = o.device;
    index = make_ivf_knn(targets, dst.size(), d, p);
  } else {
    FaissParams p;
    p.spec = o.index;
    p.nprobe = o.nprobe;
    p.ef_search = o.ef_search;
    p.train_size = o.train_size;
    p.seed = o.seed;
    index = make_faiss_knn(targets, dst.size(), d, p);
  }
  std::vector<float>().swap(targets);
  res.index = index->describe();

  AtomicFile out(o.out);
  {
    H5::H5File f = h5::create_file(out.temp_path());
    h5::write_store_header(f, kMatchStoreFormat, kMatchStoreVersion, o.command, o.options_ini);
    h5::set_attr(f, "src", fs::absolute(o.src).lexically_normal().string());
    h5::set_attr(f, "dst", fs::absolute(o.dst).lexically_normal().string());
    h5::set_attr(f, "n_src", src.size());
    h5::set_attr(f, "n_dst", dst.size());
    h5::set_attr(f, "k", o.k);
    h5::set_attr(f, "threshold", o.min_cosine);
    h5::set_attr(f, "index", res.index);
    h5::set_attr(f, "nprobe", o.nprobe);
    h5::set_attr(f, "ef_search", o.ef_search);
    h5::set_attr(f, "center", o.center ? 1 : 0);
    h5::set_attr(f, "seed", std::to_string(o.seed));
    h5::set_attr(f, "src_network", src.meta().weights);
    h5::set_attr(f, "dst_network", dst.meta().weights);
    const hsize_t k = static_cast<hsize_t>(o.k);
    H5::DataSet knn_i = h5::create_rows<std::int64_t>(f, "/knn/index", {k}, std::max<hsize_t>(1, 65536 / k));
    H5::DataSet knn_c = h5::create_rows<float>(f, "/knn/cosine", {k}, std::max<hsize_t>(1, 65536 / k));
    H5::DataSet p_src = h5::create_rows<std::int32_t>(f, "/pairs/src", {}, 65536);
    H5::DataSet p_dst = h5::create_rows<std::int32_t>(f, "/pairs/dst", {}, 65536);
    H5::DataSet p_cos = h5::create_rows<float>(f, "/pairs/cosine", {}, 65536);

    res.histogram.assign(20, 0);
    std::vector<bool> used(dst.size(), false);
    Sha256 src_hash;
    if (progress) progress->set_total(src.size());
    const auto ts = std::chrono::steady_clock::now();
    for (std::int64_t b = 0; b < src.size(); b += o.block) {
      const std::int64_t n = std::min<std::int64_t>(o.block, src.size() - b);
      std::vector<float> q = read_block(src, b, n, &src_hash);
      res.zero_vectors += normalize_rows(q, d, mean, src, b);
      KnnBlock r = index->search(q.data(), n, o.k);
      h5::append_rows(knn_i, r.index.data(), n);
      h5::append_rows(knn_c, r.score.data(), n);
      std::vector<std::int32_t> ps, pd;
      std::vector<float> pc;
      for (std::int64_t i = 0; i < n; ++i) {
        bool any = false;
        for (int j = 0; j < o.k; ++j) {
          const std::int64_t t = r.index[i * o.k + j];
          const float c = r.score[i * o.k + j];
          if (t < 0) continue;
          const int bin = std::clamp(static_cast<int>(std::floor((c + 1.0) / 0.1)), 0, 19);
          ++res.histogram[bin];
          if (c >= o.min_cosine) {
            ps.push_back(static_cast<std::int32_t>(b + i));
            pd.push_back(static_cast<std::int32_t>(t));
            pc.push_back(c);
            used[t] = true;
            any = true;
          }
        }
        res.src_matched += any;
      }
      h5::append_rows(p_src, ps.data(), ps.size());
      h5::append_rows(p_dst, pd.data(), pd.size());
      h5::append_rows(p_cos, pc.data(), pc.size());
      res.pairs += static_cast<std::int64_t>(ps.size());
      if (progress) progress->add(n);
    }
    res.search_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
    res.dst_used = std::count(used.begin(), used.end(), true);
    h5::set_attr(f, "src_boxes_sha256", src.boxes_sha256());
    h5::set_attr(f, "dst_boxes_sha256", dst.boxes_sha256());
    h5::set_attr(f, "src_sha256", src_hash.hex_digest());
    h5::set_attr(f, "dst_sha256", dst_hash.hex_digest());
    h5::set_attr(f, "pairs", res.pairs);
    f.close();
  }
  out.commit();
  if (res.zero_vectors)
    log_warn(res.zero_vectors, " crops have all-zero features (after centring); their cosine is 0 with every crop");
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

// ---------------------------------------------------------------- reading

MatchStore MatchStore::open(const std::string& path) {
  H5::H5File f = h5::open_store(path, kMatchStoreFormat, kMatchStoreVersion);
  MatchStore m;
  m.path = path;
  m.src = h5::attr_string(f, "src");
  m.dst = h5::attr_string(f, "dst");
  m.src_sha256 = h5::attr_string(f, "src_sha256");
  m.dst_sha256 = h5::attr_string(f, "dst_sha256");
  m.n_src = h5::attr_int(f, "n_src");
  m.n_dst = h5::attr_int(f, "n_dst");
  m.k = h5::attr_int(f, "k");
  m.threshold = h5::attr_double(f, "threshold");
  if (h5::has_attr(f, "src_boxes_sha256")) m.src_boxes_sha256 = h5::attr_string(f, "src_boxes_sha256");
  if (h5::has_attr(f, "dst_boxes_sha256")) m.dst_boxes_sha256 = h5::attr_string(f, "dst_boxes_sha256");
  m.pair_src = h5::read<std::int32_t>(f, "/pairs/src");
  m.pair_dst = h5::read<std::int32_t>(f, "/pairs/dst");
  m.pair_cosine = h5::read<float>(f, "/pairs/cosine");
  EPE_CHECK(m.pair_dst.size() == m.pair_src.size() && m.pair_cosine.size() == m.pair_src.size(), "'", path,
            "': /pairs/src, /pairs/dst and /pairs/cosine differ in length");
  for (size_t i = 0; i < m.pair_src.size(); ++i)
    EPE_CHECK(m.pair_src[i] >= 0 && m.pair_src[i] < m.n_src && m.pair_dst[i] >= 0 && m.pair_dst[i] < m.n_dst, "'", path,
              "': pair ", i, " refers to crops outside the stores (", m.pair_src[i], ", ", m.pair_dst[i], ")");
  if (h5::exists(f, "/pairs/weight")) {
    m.weight = h5::read<double>(f, "/pairs/weight");
    EPE_CHECK(m.weight.size() == m.pair_src.size(), "'", path, "': /pairs/weight has ", m.weight.size(), " values for ",
              m.pair_src.size(), " pairs");
  }
  return m;
}

namespace {
std::string resolve_store(const std::string& recorded, const std::string& match_path) {
  std::error_code ec;
  if (fs::exists(recorded, ec)) return recorded;
  // Moved together with the match store: look beside it.
  fs::path beside = fs::path(match_path).parent_path() / fs::path(recorded).filename();
  if (fs::exists(beside, ec)) return beside.string();
  throw UserError(cat("'", match_path, "' refers to crop store '", recorded,
                      "', which does not exist (nor beside the match store)"));
}
}  // namespace

void MatchStore::check_crop_stores(const CropStore& s, const CropStore* d) const {
  auto check = [&](const CropStore& c, std::int64_t n, const std::string& boxes, const char* role) {
    EPE_CHECK(c.size() == n && (boxes.empty() || c.boxes_sha256() == boxes), "'", path, "' was made from a ", role,
              " crop store with ", n, " crops; '", c.path(), "' now has ",
              c.size() == n ? std::string("other crops") : cat(c.size(), " crops"), " (re-run epe match)");
  };
  check(s, n_src, src_boxes_sha256, "source");
  if (d) check(*d, n_dst, dst_boxes_sha256, "target");
}

std::string MatchStore::src_path() const {
  return resolve_store(src, path);
}
std::string MatchStore::dst_path() const {
  return resolve_store(dst, path);
}

std::vector<std::int64_t> MatchStore::knn_index() const {
  H5::H5File f = h5::open_file(path);
  return h5::read<std::int64_t>(f, "/knn/index");
}

std::vector<float> MatchStore::knn_cosine() const {
  H5::H5File f = h5::open_file(path);
  return h5::read<float>(f, "/knn/cosine");
}

}  // namespace epe
