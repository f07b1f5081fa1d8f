#include "epe/match/match_store.h"

#include <filesystem>

#include "epe/core/error.h"
#include "epe/crops/crop_store.h"
#include "epe/io/h5.h"
#include "epe/match/match_writer.h"

namespace fs = std::filesystem;

namespace epe {

std::string resolve_crop_store(const std::string& recorded, const std::string& beside) {
  std::error_code ec;
  if (fs::exists(recorded, ec)) return recorded;
  // Moved together with the match store: look beside it.
  fs::path next = fs::path(beside).parent_path() / fs::path(recorded).filename();
  if (fs::exists(next, ec)) return next.string();
  throw UserError(
      cat("'", beside, "' refers to crop store '", recorded, "', which does not exist (nor beside '", beside, "')"));
}

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
  return resolve_crop_store(src, path);
}
std::string MatchStore::dst_path() const {
  return resolve_crop_store(dst, path);
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
