#include "epe/metrics/feature_store.h"

#include <H5Cpp.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <tuple>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/options.h"
#include "epe/core/progress.h"
#include "epe/io/h5.h"
#include "epe/metrics/features.h"

namespace fs = std::filesystem;

namespace epe {

void write_feature_store(const std::string& path, const FeatureStoreInfo& info, const FeatureMatrix& m,
                         const std::vector<std::string>& images) {
  EPE_ASSERT(images.size() == static_cast<std::size_t>(m.n), "write_feature_store: ", m.n, " rows, ", images.size(),
             " images");
  AtomicFile out(path);
  {
    std::lock_guard<std::mutex> lock(h5::h5_mutex());
    H5::H5File f = h5::create_file(out.temp_path());
    h5::write_store_header(f, kFeatureStoreFormat, kFeatureStoreVersion, "epe metrics", "");
    h5::write(f, "/features", m.data, {hsize_t(m.n), hsize_t(m.d)});
    h5::write_strings(f, "/images", images);
    h5::set_attr(f, "key", info.key);
    h5::set_attr(f, "source", info.source);
    h5::set_attr(f, "set_checksum", info.set_checksum);
    h5::set_attr(f, "extractor", info.extractor);
    if (info.shard.shard.active()) {
      h5::set_attr(f, "extractor_name", info.name);
      write_shard_record(f, info.shard);
    }
  }
  out.commit();
}

std::string feature_shard_path(const std::string& dir, const std::string& name, const std::string& key,
                               const Shard& shard) {
  return (fs::path(dir) / cat(name, "-", key.substr(0, 16), "-shard-", shard.index, "-of-", shard.count, ".h5"))
      .string();
}

namespace {

// A shard store as the merge and a rerun see it (its rows are read by the merge only).
struct ShardStore {
  std::string path;
  FeatureStoreInfo info;
  std::int64_t rows = 0;  // of /features
  int d = 0;
};

// Reads the attributes and the /features shape of a feature shard store. UserError naming the
// file when it is not one or disagrees with its own record.
ShardStore read_shard_store(const std::string& path) {
  std::lock_guard<std::mutex> lock(h5::h5_mutex());
  H5::H5File f = h5::open_store(path, kFeatureStoreFormat, kFeatureStoreVersion);
  ShardStore s;
  s.path = path;
  for (const char* a : {"key", "source", "set_checksum", "extractor"})
    EPE_CHECK(h5::has_attr(f, a), "'", path, "' is a feature store without its '", a, "' attribute");
  s.info.key = h5::attr_string(f, "key");
  s.info.source = h5::attr_string(f, "source");
  s.info.set_checksum = h5::attr_string(f, "set_checksum");
  s.info.extractor = h5::attr_string(f, "extractor");
  s.info.shard = read_shard_record(f, path);
  EPE_CHECK(s.info.shard.shard.active() && h5::has_attr(f, "extractor_name"), "'", path,
            "' is a complete feature store, not a shard of one (epe metrics --shard writes those)");
  s.info.name = h5::attr_string(f, "extractor_name");
  const std::vector<hsize_t> dims = h5::shape(f, "/features");
  EPE_CHECK(dims.size() == 2, "'", path, "': /features has ", dims.size(), " dimensions, expected 2");
  s.rows = static_cast<std::int64_t>(dims[0]);
  s.d = static_cast<int>(dims[1]);
  const auto [begin, end] = s.info.shard.rows();
  EPE_CHECK(s.rows == end - begin, "'", path, "': /features has ", s.rows, " rows, but shard ",
            s.info.shard.shard.label(), " of ", s.info.shard.list_rows, " images holds rows [", begin, ", ", end, ")");
  EPE_CHECK(h5::shape(f, "/images") == std::vector<hsize_t>{dims[0]}, "'", path, "': /images does not have ", s.rows,
            " rows like /features");
  return s;
}

}  // namespace

FeatureShardResult write_feature_shard(FeatureExtractor& ex, const ImageSet& set, const Shard& shard,
                                       const std::string& dir, bool force, Progress* progress) {
  EPE_ASSERT(shard.active(), "write_feature_shard: not a shard");
  const std::int64_t n = static_cast<std::int64_t>(set.images.size());
  FeatureStoreInfo info;
  info.key = feature_cache_key(ex, set);
  info.source = set.source;
  info.set_checksum = set.checksum;
  info.extractor = ex.description();
  info.name = ex.name();
  info.shard.shard = shard;
  info.shard.list_rows = n;
  info.shard.list_sha256 = set.checksum;
  FeatureShardResult r;
  r.path = feature_shard_path(dir, info.name, info.key, shard);
  r.source = set.source;
  r.extractor = info.name;
  std::tie(r.row_begin, r.row_end) = shard.rows(n);
  r.rows = n;
  ensure_output_dir(dir);
  if (fs::exists(r.path) && !force) {
    ShardStore have;
    try {
      have = read_shard_store(r.path);
    } catch (const UserError& e) {
      throw UserError(cat(e.what(), "; pass --force to replace it"));
    }
    EPE_CHECK(have.info.key == info.key && have.info.shard == info.shard, "'", r.path, "' holds other features (key ",
              have.info.key.substr(0, 16), "…, shard ", have.info.shard.shard.label(), "); pass --force to replace it");
    r.already_complete = true;
    if (progress) progress->add(r.row_end - r.row_begin);
    return r;
  }
  FeatureMatrix m =
      ex.extract_rows(set, static_cast<std::size_t>(r.row_begin), static_cast<std::size_t>(r.row_end), progress);
  write_feature_store(r.path, info, m,
                      std::vector<std::string>(set.images.begin() + r.row_begin, set.images.begin() + r.row_end));
  return r;
}

FeatureMergeResult merge_feature_shards(const std::vector<std::string>& inputs, const std::string& cache_dir,
                                        bool force) {
  EPE_CHECK(!inputs.empty(), "epe merge features: give the shard stores or their folders");
  // The shard stores: files as given, folders by their *-shard-*-of-*.h5 files.
  std::vector<std::string> paths;
  for (const std::string& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      std::vector<std::string> found;
      for (const auto& e : fs::directory_iterator(in)) {
        const std::string name = e.path().filename().string();
        if (e.is_regular_file() && name.size() > 3 && name.substr(name.size() - 3) == ".h5" &&
            name.find("-shard-") != std::string::npos)
          found.push_back(e.path().string());
      }
      EPE_CHECK(!found.empty(), "folder '", in, "' has no feature shard stores (*-shard-I-of-N.h5)");
      std::sort(found.begin(), found.end());
      paths.insert(paths.end(), found.begin(), found.end());
    } else {
      EPE_CHECK(fs::is_regular_file(in, ec), "'", in, "' does not exist");
      paths.push_back(in);
    }
  }
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  // Grouped by key, in the order the keys are first met.
  std::vector<std::string> keys;
  std::map<std::string, std::vector<ShardStore>> groups;
  for (const std::string& p : paths) {
    ShardStore s = read_shard_store(p);
    if (!groups.count(s.info.key)) keys.push_back(s.info.key);
    groups[s.info.key].push_back(std::move(s));
  }
  // Check every group before writing anything.
  std::vector<std::vector<std::size_t>> orders;
  std::vector<std::string> outs;
  for (const std::string& key : keys) {
    const std::vector<ShardStore>& g = groups[key];
    std::vector<ShardRecord> records;
    std::vector<std::string> names;
    for (const ShardStore& s : g) {
      records.push_back(s.info.shard);
      names.push_back(s.path);
    }
    try {
      orders.push_back(order_shards(records, names));
    } catch (const UserError& e) {
      // Shards of the same set made with other extractor options or other image files have
      // another key: name them, since that is the likely cause.
      std::string other;
      for (const std::string& k : keys) {
        const ShardStore& s = groups[k].front();
        if (k != key && s.info.source == g.front().info.source && s.info.name == g.front().info.name) {
          other = cat(
              "; '", s.path, "' is a shard of the same set made ",
              s.info.set_checksum != g.front().info.set_checksum
                  ? "from other image files (sizes or modification times differ)"
                  : cat("with another extractor: '", s.info.extractor, "' against '", g.front().info.extractor, "'"));
          break;
        }
      }
      throw UserError(cat(g.front().info.name, " features of '", g.front().info.source, "': ", e.what(), other));
    }
    int d = -1;
    for (const ShardStore& s : g) {
      if (s.rows == 0) continue;  // an empty shard (more shards than images) has no width
      EPE_CHECK(d < 0 || s.d == d, "'", s.path, "' has ", s.d, "-dimensional features, '", g.front().path, "' ", d);
      d = s.d;
    }
    const std::string out = feature_cache_path(cache_dir, g.front().info.name, key);
    EPE_CHECK(force || !fs::exists(out), "'", out, "' exists; pass --force to overwrite it");
    outs.push_back(out);
  }
  ensure_output_dir(cache_dir);
  FeatureMergeResult r;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    const std::vector<ShardStore>& g = groups[keys[k]];
    FeatureMatrix m;
    std::vector<std::string> images;
    for (std::size_t i : orders[k]) {
      std::vector<float> rows;
      std::vector<std::string> names;
      {
        std::lock_guard<std::mutex> lock(h5::h5_mutex());
        H5::H5File f = h5::open_store(g[i].path, kFeatureStoreFormat, kFeatureStoreVersion);
        rows = h5::read<float>(f, "/features");
        names = h5::read_strings(f, "/images");
      }
      if (g[i].rows > 0) m.d = g[i].d;
      m.data.insert(m.data.end(), rows.begin(), rows.end());
      images.insert(images.end(), names.begin(), names.end());
      m.n += g[i].rows;
      ++r.shards;
    }
    FeatureStoreInfo info = g.front().info;
    info.shard = ShardRecord{};
    write_feature_store(outs[k], info, m, images);
    r.stores.push_back(outs[k]);
    r.rows += m.n;
  }
  return r;
}

std::string format_summary(const FeatureMergeResult& r, const std::string& cache_dir) {
  std::string s = cat("merge: ", r.shards, " shards into ", r.stores.size(), " feature stores (", r.rows, " rows) in ",
                      cache_dir, "\n");
  for (const std::string& p : r.stores) s += "  " + p + "\n";
  return s;
}

}  // namespace epe
