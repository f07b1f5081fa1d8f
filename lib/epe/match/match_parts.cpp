// Match parts (`epe match --src-shard/--dst-shard`) and `epe merge match`, which joins a grid of
// them into the match store one unsharded exact run writes.
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/options.h"
#include "epe/core/process.h"
#include "epe/core/progress.h"
#include "epe/core/sha256.h"
#include "epe/core/timer.h"
#include "epe/crops/crop_store.h"
#include "epe/io/h5.h"
#include "epe/match/knn.h"
#include "epe/match/match_writer.h"

namespace fs = std::filesystem;

namespace epe {

// ---------------------------------------------------------------- writing a part

struct MatchPartWriter::Impl {
  explicit Impl(const std::string& path) : f(h5::create_file(path)) {}
  H5::H5File f;
  H5::DataSet knn_i, knn_c;
};

MatchPartWriter::MatchPartWriter(const std::string& temp_path, const MatchHeader& h)
    : impl_(std::make_unique<Impl>(temp_path)), k_(h.k) {
  h.write(impl_->f, kMatchPartFormat, kMatchPartVersion);
  const hsize_t k = static_cast<hsize_t>(h.k), chunk = std::max<hsize_t>(1, 65536 / k);
  impl_->knn_i = h5::create_rows<std::int64_t>(impl_->f, "/knn/index", {k}, chunk);
  impl_->knn_c = h5::create_rows<float>(impl_->f, "/knn/cosine", {k}, chunk);
}

MatchPartWriter::~MatchPartWriter() = default;

void MatchPartWriter::add(const KnnBlock& r, std::int64_t dst_offset) {
  EPE_ASSERT(r.k <= k_, "MatchPartWriter: ", r.k, " columns for k = ", k_);
  KnnBlock full = KnnBlock::empty(r.n, k_);
  for (std::int64_t i = 0; i < r.n; ++i)
    for (std::int64_t j = 0; j < r.k; ++j) {
      const std::int64_t t = r.index[i * r.k + j];
      if (t < 0) continue;
      full.index[i * k_ + j] = dst_offset + t;
      full.score[i * k_ + j] = r.score[i * r.k + j];
    }
  h5::append_rows(impl_->knn_i, full.index.data(), r.n);
  h5::append_rows(impl_->knn_c, full.score.data(), r.n);
}

namespace {
void write_side(H5::H5File& f, const char* side, const Shard& s, std::int64_t begin, std::int64_t end,
                const std::string& sha, std::int64_t zeros) {
  const std::string p = side;
  h5::set_attr(f, p + "_shard_index", static_cast<std::int64_t>(s.active() ? s.index : 0));
  h5::set_attr(f, p + "_shard_count", static_cast<std::int64_t>(s.active() ? s.count : 1));
  h5::set_attr(f, p + "_row_begin", begin);
  h5::set_attr(f, p + "_row_end", end);
  h5::set_attr(f, p + "_rows_sha256", sha);
  h5::set_attr(f, p + "_zero_vectors", zeros);
}
}  // namespace

void MatchPartWriter::finish(const MatchPartRecord& r) {
  write_side(impl_->f, "src", r.src_shard, r.src_begin, r.src_end, r.src_rows_sha256, r.src_zero_vectors);
  write_side(impl_->f, "dst", r.dst_shard, r.dst_begin, r.dst_end, r.dst_rows_sha256, r.dst_zero_vectors);
  impl_->f.close();
}

// ---------------------------------------------------------------- reading a part

MatchPart MatchPart::open(const std::string& path) {
  H5::H5File f = h5::open_store(path, kMatchPartFormat, kMatchPartVersion);
  MatchPart p;
  p.path = path;
  p.header = MatchHeader::read(f);
  const MatchHeader& h = p.header;
  EPE_CHECK(h.k >= 1 && h.n_src >= 1 && h.n_dst >= h.k, "'", path, "': inconsistent n_src, n_dst, k (", h.n_src, ", ",
            h.n_dst, ", ", h.k, ")");
  auto side = [&](const char* name, std::int64_t n, Shard& s, std::int64_t& b, std::int64_t& e, std::string& sha,
                  std::int64_t& zeros) {
    const std::string q = name;
    const std::int64_t index = h5::attr_int(f, q + "_shard_index"), count = h5::attr_int(f, q + "_shard_count");
    EPE_CHECK(count >= 1 && index >= 0 && index < count, "'", path, "': ", q, "_shard ", index, "/", count,
              " is not a shard");
    s = count > 1 ? Shard{static_cast<int>(index), static_cast<int>(count)} : Shard{};
    b = h5::attr_int(f, q + "_row_begin");
    e = h5::attr_int(f, q + "_row_end");
    EPE_CHECK(std::make_pair(b, e) == s.rows(n), "'", path, "': ", q, " rows [", b, ", ", e, ") are not shard ", index,
              "/", count, " of ", n, " crops");
    sha = h5::attr_string(f, q + "_rows_sha256");
    zeros = h5::attr_int(f, q + "_zero_vectors");
  };
  MatchPartRecord& r = p.record;
  side("src", h.n_src, r.src_shard, r.src_begin, r.src_end, r.src_rows_sha256, r.src_zero_vectors);
  side("dst", h.n_dst, r.dst_shard, r.dst_begin, r.dst_end, r.dst_rows_sha256, r.dst_zero_vectors);
  for (const char* ds : {"/knn/index", "/knn/cosine"}) {
    const std::vector<hsize_t> s = h5::shape(f, ds);
    EPE_CHECK(s.size() == 2 && static_cast<std::int64_t>(s[0]) == r.src_end - r.src_begin &&
                  static_cast<std::int64_t>(s[1]) == h.k,
              "'", path, "': ", ds, " is not [", r.src_end - r.src_begin, ", ", h.k, "]");
  }
  return p;
}

KnnBlock MatchPart::lists(std::int64_t begin, std::int64_t n) const {
  H5::H5File f = h5::open_file(path);
  KnnBlock b;
  b.n = n;
  b.k = header.k;
  b.index = h5::read_rows<std::int64_t>(h5::open_dataset(f, "/knn/index"), begin, n);
  b.score = h5::read_rows<float>(h5::open_dataset(f, "/knn/cosine"), begin, n);
  for (std::int64_t t : b.index)
    EPE_CHECK(t >= -1 && t < header.n_dst, "'", path, "': /knn/index holds ", t, ", outside the ", header.n_dst,
              " target crops");
  return b;
}

// ---------------------------------------------------------------- epe merge match

namespace {

// The first header field in which two parts differ, as a sentence ("" when they agree on
// everything a merge needs).
std::string header_difference(const MatchPart& a, const MatchPart& b) {
  const MatchHeader &x = a.header, &y = b.header;
  auto differ = [&](const char* what) { return cat("'", b.path, "' and '", a.path, "' differ in ", what); };
  if (x.n_src != y.n_src || x.src_boxes_sha256 != y.src_boxes_sha256) return differ("their source crops");
  if (x.n_dst != y.n_dst || x.dst_boxes_sha256 != y.dst_boxes_sha256) return differ("their target crops");
  if (const std::string d = first_line_difference(x.options_ini, y.options_ini); !d.empty())
    return cat(differ("their options"), " (", d,
               "); every part must come from one command but for the shards, --out "
               "and --device");
  if (x.k != y.k || x.threshold != y.threshold || x.center != y.center || x.seed != y.seed || x.nprobe != y.nprobe ||
      x.ef_search != y.ef_search)
    return differ("k, threshold, centring or seed");
  if (x.src_network != y.src_network || x.dst_network != y.dst_network) return differ("the networks they record");
  return "";
}

// Streams the features of `s` in order: the hash of all of them, and checks each shard's
// rows against the hash its parts recorded.
std::string check_features(const CropStore& s, int count, const char* role,
                           const std::map<int, std::pair<std::string, std::string>>& want, Progress* progress) {
  Sha256 all;
  const std::int64_t block = 65536;
  for (int i = 0; i < count; ++i) {
    const auto [b, e] = (count > 1 ? Shard{i, count} : Shard{}).rows(s.size());
    Sha256 part;
    for (std::int64_t r = b; r < e; r += block) {
      const std::vector<std::uint16_t> v = s.features_f16(r, std::min(block, e - r));
      all.update(v.data(), v.size() * 2);
      part.update(v.data(), v.size() * 2);
      if (progress) progress->add(static_cast<std::int64_t>(v.size() / s.dim()));
    }
    const auto& [sha, from] = want.at(i);
    EPE_CHECK(part.hex_digest() == sha, "the ", role, " crop store '", s.path(), "' has changed since '", from,
              "' was computed (its features of shard ", i, "/", count, " differ); re-run that part");
  }
  return all.hex_digest();
}

}  // namespace

MatchResult merge_match_parts(const std::vector<std::string>& paths, const std::string& out, bool force,
                              const std::string& command, Progress* progress) {
  const Timer t0;
  EPE_CHECK(!out.empty(), "option --out is required");
  EPE_CHECK(!paths.empty(), "epe merge match: no match parts given");
  check_output_path(out, force, "--out");
  for (const std::string& p : paths)
    EPE_CHECK(fs::absolute(p).lexically_normal() != fs::absolute(out).lexically_normal(), "option --out: '", out,
              "' is also one of the parts to merge");

  std::vector<MatchPart> parts;
  for (const std::string& p : paths) parts.push_back(MatchPart::open(p));
  const MatchPart& first = parts[0];
  const MatchHeader& h = first.header;
  auto count = [](const Shard& s) { return s.active() ? s.count : 1; };
  auto index = [](const Shard& s) { return s.active() ? s.index : 0; };
  const int M = count(first.record.src_shard), N = count(first.record.dst_shard);
  std::map<std::pair<int, int>, std::size_t> cell;  // (source shard, target shard) -> part
  std::set<std::string> backends;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const MatchPart& p = parts[i];
    const std::string d = header_difference(first, p);
    EPE_CHECK(d.empty(), "the parts do not belong together: ", d);
    const int m = count(p.record.src_shard), n = count(p.record.dst_shard);
    EPE_CHECK(m == M && n == N, "'", p.path, "' is a part of a ", m, " x ", n, " grid (source x target shards), '",
              first.path, "' of a ", M, " x ", N, " grid");
    const std::pair<int, int> c{index(p.record.src_shard), index(p.record.dst_shard)};
    const auto [it, fresh] = cell.emplace(c, i);
    EPE_CHECK(fresh, "'", p.path, "' and '", parts[it->second].path, "' are the same part (source shard ", c.first, "/",
              M, ", target shard ", c.second, "/", N, "); give each part once");
    backends.insert(p.header.index);
  }
  std::string missing;
  for (int j = 0; j < M; ++j)
    for (int i = 0; i < N; ++i)
      if (!cell.count({j, i})) missing += cat(missing.empty() ? "" : ", ", j, "/", M, " x ", i, "/", N);
  EPE_CHECK(missing.empty(), "epe merge match: parts missing from the ", M, " x ", N,
            " grid (source shard x target shard): ", missing);

  // The crop stores must still hold the features the parts searched; their hashes are the
  // merged store's src_sha256 / dst_sha256.
  CropStore src(resolve_crop_store(h.src, first.path)), dst(resolve_crop_store(h.dst, first.path));
  EPE_CHECK(src.size() == h.n_src && src.boxes_sha256() == h.src_boxes_sha256, "the source crop store '", src.path(),
            "' is not the one the parts were computed from (", h.n_src, " crops then, ", src.size(), " now)");
  EPE_CHECK(dst.size() == h.n_dst && dst.boxes_sha256() == h.dst_boxes_sha256, "the target crop store '", dst.path(),
            "' is not the one the parts were computed from (", h.n_dst, " crops then, ", dst.size(), " now)");
  if (progress) progress->set_total(2 * h.n_src + h.n_dst);
  std::map<int, std::pair<std::string, std::string>> src_sha, dst_sha;
  MatchResult res;
  // Every part of one shard must have read the same features.
  auto agree = [](std::map<int, std::pair<std::string, std::string>>& seen, int shard, const std::string& sha,
                  const std::string& path) {
    const auto [it, fresh] = seen.emplace(shard, std::make_pair(sha, path));
    EPE_CHECK(it->second.first == sha, "'", path, "' and '", it->second.second,
              "' read different features for the same shard (the crop store changed between the jobs)");
  };
  for (const auto& [c, i] : cell) {
    const MatchPart& p = parts[i];
    agree(src_sha, c.first, p.record.src_rows_sha256, p.path);
    agree(dst_sha, c.second, p.record.dst_rows_sha256, p.path);
    if (c.second == 0) res.zero_vectors += p.record.src_zero_vectors;
    if (c.first == 0) res.zero_vectors += p.record.dst_zero_vectors;
  }
  const std::string src_all = check_features(src, M, "source", src_sha, progress);
  const std::string dst_all = check_features(dst, N, "target", dst_sha, progress);

  MatchHeader mh = h;
  mh.command = command;
  mh.index.clear();
  for (const std::string& b : backends) mh.index += (mh.index.empty() ? "" : "; ") + b;
  AtomicFile file(out);
  MatchStoreWriter w(file.temp_path(), mh);
  const std::int64_t block = 65536, k = h.k;
  for (int j = 0; j < M; ++j) {
    const MatchPart& row0 = parts[cell.at({j, 0})];
    const std::int64_t rows = row0.record.src_end - row0.record.src_begin;
    for (std::int64_t b = 0; b < rows; b += block) {
      const std::int64_t n = std::min(block, rows - b);
      KnnBlock m = KnnBlock::empty(n, k);
      for (int i = 0; i < N; ++i) {
        const KnnBlock p = parts[cell.at({j, i})].lists(b, n);
        for (std::int64_t r = 0; r < n; ++r)
          for (std::int64_t c = 0; c < k; ++c)
            if (p.index[r * k + c] >= 0)
              knn_insert(p.score[r * k + c], p.index[r * k + c], m.score.data() + r * k, m.index.data() + r * k,
                         static_cast<int>(k));
      }
      w.add(m);
      if (progress) progress->add(n);
    }
  }
  w.finish(src_all, dst_all);
  file.commit();
  const MatchResult& wr = w.result();
  res.n_src = wr.n_src;
  res.n_dst = wr.n_dst;
  res.k = wr.k;
  res.threshold = h.threshold;
  res.center = h.center != 0;
  res.pairs = wr.pairs;
  res.src_matched = wr.src_matched;
  res.dst_used = wr.dst_used;
  res.histogram = wr.histogram;
  res.index = mh.index;
  res.parts = static_cast<int>(parts.size());
  res.peak_rss_bytes = peak_rss_bytes();
  res.seconds = t0.seconds();
  return res;
}

}  // namespace epe
