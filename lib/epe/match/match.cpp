#include "epe/match/match.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <tuple>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/half.h"
#include "epe/core/log.h"
#include "epe/core/options.h"
#include "epe/core/process.h"
#include "epe/core/progress.h"
#include "epe/core/sha256.h"
#include "epe/core/timer.h"
#include "epe/crops/crop_store.h"
#include "epe/io/h5.h"
#include "epe/match/knn.h"
#include "epe/match/match_store.h"
#include "epe/match/match_writer.h"

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
  EPE_CHECK(!(src_shard.from_slurm && dst_shard.from_slurm),
            "options --src-shard, --dst-shard: only one can be auto (a Slurm array has one task index; for a grid "
            "give both as J/M and I/N)");
  EPE_CHECK(!src.empty(), "option --src is required");
  EPE_CHECK(!dst.empty(), "option --dst is required");
  EPE_CHECK(!out.empty(), "option --out is required");
  EPE_CHECK(k >= 1, "option -k: must be >= 1, got ", k);
  EPE_CHECK(min_cosine >= -1.0 && min_cosine <= 1.0, "option --min-cosine: ", min_cosine,
            " is outside [-1, 1] (cosine similarities lie there)");
  EPE_CHECK(block >= 0, "option --block: must be >= 0 (0 = auto)");
  EPE_CHECK(nprobe >= 0 && ef_search >= 0 && train_size >= 0,
            "options --nprobe, --ef-search, --train-size: must be >= 0");
  const KnnSpec spec = parse_knn_spec(index);
  EPE_CHECK(spec.approximate() || (nprobe == 0 && ef_search == 0 && train_size == 0),
            "options --nprobe/--ef-search/--train-size apply to approximate indices, not --index exact");
  EPE_CHECK(spec.probes || nprobe == 0, "option --nprobe applies to IVF indices, not --index ", index);
  EPE_CHECK(spec.hnsw || ef_search == 0, "option --ef-search applies to FAISS HNSW indices, not --index ", index);
  EPE_CHECK(spec.kind != KnnKind::faiss || device == "cpu", "option --device ", device,
            ": this FAISS build has no GPU indices; with a GPU use --index exact or ivf (LibTorch backends)");
  EPE_CHECK(!dst_shard.active() || spec.kind == KnnKind::exact,
            "option --dst-shard: target shards need --index exact (an ", index,
            " index built per target shard would not give the matches of one index over all targets)");
}

// ---------------------------------------------------------------- writing

void MatchHeader::write(H5::H5File& f, const char* format, int version) const {
  h5::write_store_header(f, format, version, command, options_ini);
  h5::set_attr(f, "src", src);
  h5::set_attr(f, "dst", dst);
  h5::set_attr(f, "n_src", n_src);
  h5::set_attr(f, "n_dst", n_dst);
  h5::set_attr(f, "k", k);
  h5::set_attr(f, "threshold", threshold);
  h5::set_attr(f, "index", index);
  h5::set_attr(f, "nprobe", nprobe);
  h5::set_attr(f, "ef_search", ef_search);
  h5::set_attr(f, "center", center);
  h5::set_attr(f, "seed", seed);
  h5::set_attr(f, "src_network", src_network);
  h5::set_attr(f, "dst_network", dst_network);
  h5::set_attr(f, "src_boxes_sha256", src_boxes_sha256);
  h5::set_attr(f, "dst_boxes_sha256", dst_boxes_sha256);
}

MatchHeader MatchHeader::read(const H5::H5File& f) {
  MatchHeader h;
  h.src = h5::attr_string(f, "src");
  h.dst = h5::attr_string(f, "dst");
  h.n_src = h5::attr_int(f, "n_src");
  h.n_dst = h5::attr_int(f, "n_dst");
  h.k = h5::attr_int(f, "k");
  h.threshold = h5::attr_double(f, "threshold");
  h.index = h5::attr_string(f, "index");
  h.nprobe = static_cast<int>(h5::attr_int(f, "nprobe"));
  h.ef_search = static_cast<int>(h5::attr_int(f, "ef_search"));
  h.center = static_cast<int>(h5::attr_int(f, "center"));
  h.seed = h5::attr_string(f, "seed");
  h.src_network = h5::attr_string(f, "src_network");
  h.dst_network = h5::attr_string(f, "dst_network");
  h.src_boxes_sha256 = h5::attr_string(f, "src_boxes_sha256");
  h.dst_boxes_sha256 = h5::attr_string(f, "dst_boxes_sha256");
  h.command = h5::attr_string(f, "command");
  h.options_ini = h5::attr_string(f, "options");
  return h;
}

struct MatchStoreWriter::Impl {
  explicit Impl(const std::string& path) : f(h5::create_file(path)) {}
  H5::H5File f;
  H5::DataSet knn_i, knn_c, p_src, p_dst, p_cos;
  std::vector<bool> used;
};

MatchStoreWriter::MatchStoreWriter(const std::string& temp_path, const MatchHeader& h)
    : impl_(std::make_unique<Impl>(temp_path)), header_(h) {
  h.write(impl_->f, kMatchStoreFormat, kMatchStoreVersion);
  const hsize_t k = static_cast<hsize_t>(h.k), chunk = std::max<hsize_t>(1, 65536 / k);
  impl_->knn_i = h5::create_rows<std::int64_t>(impl_->f, "/knn/index", {k}, chunk);
  impl_->knn_c = h5::create_rows<float>(impl_->f, "/knn/cosine", {k}, chunk);
  impl_->p_src = h5::create_rows<std::int32_t>(impl_->f, "/pairs/src", {}, 65536);
  impl_->p_dst = h5::create_rows<std::int32_t>(impl_->f, "/pairs/dst", {}, 65536);
  impl_->p_cos = h5::create_rows<float>(impl_->f, "/pairs/cosine", {}, 65536);
  impl_->used.assign(h.n_dst, false);
  res_.n_src = h.n_src;
  res_.n_dst = h.n_dst;
  res_.k = h.k;
  res_.index = h.index;
  res_.histogram.assign(20, 0);
}

MatchStoreWriter::~MatchStoreWriter() = default;

void MatchStoreWriter::add(const KnnBlock& r) {
  const std::int64_t n = r.n, k = header_.k;
  EPE_ASSERT(r.k == k && next_src_ + n <= header_.n_src, "MatchStoreWriter: block of ", n, " x ", r.k);
  h5::append_rows(impl_->knn_i, r.index.data(), n);
  h5::append_rows(impl_->knn_c, r.score.data(), n);
  std::vector<std::int32_t> ps, pd;
  std::vector<float> pc;
  for (std::int64_t i = 0; i < n; ++i) {
    bool any = false;
    for (std::int64_t j = 0; j < k; ++j) {
      const std::int64_t t = r.index[i * k + j];
      const float c = r.score[i * k + j];
      if (t < 0) continue;
      const int bin = std::clamp(static_cast<int>(std::floor((c + 1.0) / 0.1)), 0, 19);
      ++res_.histogram[bin];
      if (c >= header_.threshold) {
        ps.push_back(static_cast<std::int32_t>(next_src_ + i));
        pd.push_back(static_cast<std::int32_t>(t));
        pc.push_back(c);
        impl_->used[t] = true;
        any = true;
      }
    }
    res_.src_matched += any;
  }
  h5::append_rows(impl_->p_src, ps.data(), ps.size());
  h5::append_rows(impl_->p_dst, pd.data(), pd.size());
  h5::append_rows(impl_->p_cos, pc.data(), pc.size());
  res_.pairs += static_cast<std::int64_t>(ps.size());
  next_src_ += n;
}

void MatchStoreWriter::finish(const std::string& src_sha256, const std::string& dst_sha256) {
  EPE_ASSERT(next_src_ == header_.n_src, "MatchStoreWriter: ", next_src_, " of ", header_.n_src, " rows written");
  res_.dst_used = std::count(impl_->used.begin(), impl_->used.end(), true);
  h5::set_attr(impl_->f, "src_sha256", src_sha256);
  h5::set_attr(impl_->f, "dst_sha256", dst_sha256);
  h5::set_attr(impl_->f, "pairs", res_.pairs);
  impl_->f.close();
}

// ---------------------------------------------------------------- epe match

namespace {

// The most memory the exact search holds at once: the target rows (float32), one block of
// queries, its score tile, its candidate lists (at most 3k + 64 pairs of 16 bytes per query,
// knn.cpp) and lists.
std::int64_t search_memory(std::int64_t targets, std::int64_t block, int d, int k) {
  const std::int64_t tile = std::max<std::int64_t>(256, (16 << 20) / std::max<std::int64_t>(1, block));
  return 4 * d * (targets + block) + 4 * block * std::min(tile, std::max<std::int64_t>(1, targets)) +
         16 * block * (3 * k + 64);
}

// A part already at `o.out` that this run would write identically: true (nothing to do). The
// check is cheap (crop tables, networks, options; not the features, which `epe merge match`
// checks against each part's checksums). UserError when something else is there and --force
// was not given.
bool part_already_complete(const MatchOptions& o, const MatchHeader& h, const MatchPartRecord& want) {
  std::error_code ec;
  if (o.force || !fs::exists(o.out, ec)) return false;
  std::string why;
  try {
    const MatchPart p = MatchPart::open(o.out);
    const MatchPartRecord& r = p.record;
    if (!(r.src_shard == want.src_shard && r.dst_shard == want.dst_shard))
      why = cat("it is the part for source shard ", r.src_shard.active() ? r.src_shard.label() : "0/1",
                ", target shard ", r.dst_shard.active() ? r.dst_shard.label() : "0/1");
    else if (p.header.src_boxes_sha256 != h.src_boxes_sha256 || p.header.n_src != h.n_src)
      why = "it was made from other source crops";
    else if (p.header.dst_boxes_sha256 != h.dst_boxes_sha256 || p.header.n_dst != h.n_dst)
      why = "it was made from other target crops";
    else if (p.header.src_network != h.src_network || p.header.dst_network != h.dst_network)
      why = "it was made from crops of other networks";
    else if (const std::string d = first_line_difference(p.header.options_ini, h.options_ini); !d.empty())
      why = cat("its options differ (", d, ")");
  } catch (const UserError& e) {
    why = e.what();
  }
  if (why.empty()) return true;
  throw UserError(cat("option --out: '", o.out, "' exists and is not this job's finished part (", why,
                      "); pass --force to overwrite it"));
}

}  // namespace

MatchResult compute_matches(const MatchOptions& o, Progress* progress) {
  o.check();
  const Timer t0;
  if (!o.sharded()) check_output_path(o.out, o.force);
  CropStore src(o.src), dst(o.dst);
  const int d = src.dim();
  EPE_CHECK(dst.dim() == d, "feature dimensions differ: '", o.src, "' has ", d, ", '", o.dst, "' has ", dst.dim());
  EPE_CHECK(src.size() > 0, "'", o.src, "' has no crops");
  EPE_CHECK(o.k <= dst.size(), "option -k: ", o.k, " neighbours requested but '", o.dst, "' has only ", dst.size(),
            " crops");
  if (src.meta().weights != dst.meta().weights || src.meta().layer != dst.meta().layer)
    log_warn("the two crop stores come from different networks (", src.meta().weights, " / ", dst.meta().weights,
             "); their features may not be comparable");

  MatchHeader h;
  h.src = fs::absolute(o.src).lexically_normal().string();
  h.dst = fs::absolute(o.dst).lexically_normal().string();
  h.n_src = src.size();
  h.n_dst = dst.size();
  h.k = o.k;
  h.threshold = o.min_cosine;
  h.nprobe = o.nprobe;
  h.ef_search = o.ef_search;
  h.center = o.center ? 1 : 0;
  h.seed = std::to_string(o.seed);
  h.src_network = src.meta().weights;
  h.dst_network = dst.meta().weights;
  h.src_boxes_sha256 = src.boxes_sha256();
  h.dst_boxes_sha256 = dst.boxes_sha256();
  h.command = o.command;
  h.options_ini = o.options_ini;

  // A side split into 1 shard is stored (and read back) as not sharded.
  auto one = [](const Shard& s) { return s.count == 1 ? Shard{} : s; };
  MatchPartRecord rec;
  rec.src_shard = one(o.src_shard);
  rec.dst_shard = one(o.dst_shard);
  std::tie(rec.src_begin, rec.src_end) = o.src_shard.rows(src.size());
  std::tie(rec.dst_begin, rec.dst_end) = o.dst_shard.rows(dst.size());
  const std::int64_t n_targets = rec.dst_end - rec.dst_begin;
  const KnnSpec spec = parse_knn_spec(o.index);

  MatchResult res;
  res.part = o.sharded();
  res.src_shard = o.src_shard;
  res.dst_shard = o.dst_shard;
  res.src_begin = rec.src_begin;
  res.src_end = rec.src_end;
  res.dst_begin = rec.dst_begin;
  res.dst_end = rec.dst_end;
  if (o.sharded() && part_already_complete(o, h, rec)) {
    res.already_complete = true;
    return res;
  }
  const std::int64_t read_block_rows = 65536;

  // --center: the mean over both whole sets, whatever the shard (every job computes the same).
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

  // The targets of this shard in memory, normalised.
  Sha256 dst_hash;
  std::vector<float> targets;
  targets.reserve(static_cast<size_t>(n_targets) * d);
  for (std::int64_t b = rec.dst_begin; b < rec.dst_end; b += read_block_rows) {
    const std::int64_t n = std::min(read_block_rows, rec.dst_end - b);
    std::vector<float> f = read_block(dst, b, n, &dst_hash);
    rec.dst_zero_vectors += normalize_rows(f, d, mean, dst, b);
    targets.insert(targets.end(), f.begin(), f.end());
  }
  const int kk = static_cast<int>(std::min<std::int64_t>(o.k, n_targets));
  std::unique_ptr<KnnIndex> index;
  if (n_targets == 0) {
    res.index = cat("exact (", o.device, ")");  // what the search would describe: a merge joins the descriptions
  } else {
    KnnParams p;
    p.nprobe = o.nprobe;
    p.ef_search = o.ef_search;
    p.train_size = o.train_size;
    p.seed = o.seed;
    p.device = o.device;
    index = make_knn_index(spec, std::move(targets), n_targets, d, p);
  }
  std::vector<float>().swap(targets);
  if (index) res.index = index->describe();
  h.index = res.index;
  // auto: for exact search a quarter of the targets this job holds, within 4096 .. 65536, so
  // that a job's memory shrinks with its target shard instead of being held up by the source
  // block; 65536 for the other indices (IVF groups a block's queries by list: larger is faster).
  const std::int64_t block_option = o.block > 0                   ? o.block
                                    : spec.kind == KnnKind::exact ? std::clamp<std::int64_t>(n_targets / 4, 4096, 65536)
                                                                  : 65536;
  const std::int64_t block =
      std::min<std::int64_t>(block_option, std::max<std::int64_t>(1, rec.src_end - rec.src_begin));
  if (spec.kind == KnnKind::exact) res.memory_bound_bytes = search_memory(n_targets, block, d, o.k);

  // The search, block by block over this shard's source rows.
  Sha256 src_hash;
  auto search = [&](const std::function<void(const KnnBlock&)>& sink) {
    if (progress) progress->set_total(rec.src_end - rec.src_begin);
    const Timer ts;
    for (std::int64_t b = rec.src_begin; b < rec.src_end; b += block) {
      const std::int64_t n = std::min<std::int64_t>(block, rec.src_end - b);
      std::vector<float> q = read_block(src, b, n, &src_hash);
      rec.src_zero_vectors += normalize_rows(q, d, mean, src, b);
      sink(index ? index->search(q.data(), n, kk) : KnnBlock::empty(n, 0));
      if (progress) progress->add(n);
    }
    res.search_seconds = ts.seconds();
  };

  AtomicFile out(o.out);
  if (o.sharded()) {
    MatchPartWriter w(out.temp_path(), h);
    search([&](const KnnBlock& r) { w.add(r, rec.dst_begin); });
    rec.src_rows_sha256 = src_hash.hex_digest();
    rec.dst_rows_sha256 = dst_hash.hex_digest();
    w.finish(rec);
  } else {
    MatchStoreWriter w(out.temp_path(), h);
    search([&](const KnnBlock& r) { w.add(r); });
    w.finish(src_hash.hex_digest(), dst_hash.hex_digest());
    const MatchResult& wr = w.result();
    res.n_src = wr.n_src;
    res.pairs = wr.pairs;
    res.src_matched = wr.src_matched;
    res.dst_used = wr.dst_used;
    res.histogram = wr.histogram;
  }
  out.commit();
  res.n_src = src.size();
  res.n_dst = dst.size();
  res.k = o.k;
  res.threshold = o.min_cosine;
  res.center = o.center;
  res.zero_vectors = rec.src_zero_vectors + rec.dst_zero_vectors;
  if (res.zero_vectors)
    log_warn(res.zero_vectors, " crops have all-zero features (after centring); their cosine is 0 with every crop");
  res.peak_rss_bytes = peak_rss_bytes();
  res.seconds = t0.seconds();
  return res;
}

std::string format_match_summary(const MatchResult& r, const std::string& out) {
  const double min_cosine = r.threshold;
  const bool center = r.center;
  std::string s =
      cat("  pairs kept (cosine >= ", format_number(min_cosine, "%.3f"), "): ", r.pairs, " of ", r.n_src * r.k, "\n");
  s += cat("  source crops with >= 1 match: ", format_number(100.0 * r.src_matched / r.n_src, "%.1f"),
           " %   target crops used: ", format_number(100.0 * r.dst_used / r.n_dst, "%.1f"), " %\n");
  s += "  cosine of the k neighbours:\n";
  std::int64_t peak = 1;
  for (auto c : r.histogram) peak = std::max(peak, c);
  for (int b = 0; b < static_cast<int>(r.histogram.size()); ++b) {
    if (!r.histogram[b]) continue;
    const double lo = -1.0 + 0.1 * b;
    char line[160];
    std::snprintf(line, sizeof line, "    [%5.2f, %5.2f) %10lld %s%s\n", lo, lo + 0.1,
                  static_cast<long long>(r.histogram[b]),
                  std::string(static_cast<size_t>(40.0 * r.histogram[b] / peak), '#').c_str(),
                  lo + 0.1 <= min_cosine + 1e-12 ? ""
                  : lo >= min_cosine - 1e-12     ? "  kept"
                                                 : "  partly kept");
    s += line;
  }
  if (r.pairs == r.n_src * r.k && !center)
    s += "  every neighbour passed the threshold: features may be nearly parallel (random VGG-16 weights?);\n"
         "  --center spreads the similarities\n";
  s += cat("  store: ", out, "\n");
  return s;
}

}  // namespace epe
