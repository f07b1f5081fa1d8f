#include "epe/io/shard_record.h"

#include <H5Cpp.h>

#include "epe/core/error.h"
#include "epe/core/options.h"
#include "epe/core/sha256.h"
#include "epe/io/h5.h"

namespace epe {

ShardRecord shard_record_of_list(const std::string& list_path, std::int64_t rows, const Shard& shard) {
  ShardRecord r;
  r.shard = shard;
  r.list_rows = rows;
  r.list_sha256 = sha256_file(list_path);
  return r;
}

void write_shard_record(H5::H5Object& f, const ShardRecord& r) {
  h5::set_attr(f, "list_sha256", r.list_sha256);
  h5::set_attr(f, "list_rows", r.list_rows);
  if (!r.shard.active()) return;
  const auto [begin, end] = r.rows();
  h5::set_attr(f, "shard_index", r.shard.index);
  h5::set_attr(f, "shard_count", r.shard.count);
  h5::set_attr(f, "row_begin", begin);
  h5::set_attr(f, "row_end", end);
}

ShardRecord read_shard_record(const H5::H5Object& f, const std::string& path) {
  ShardRecord r;
  if (h5::has_attr(f, "list_sha256")) r.list_sha256 = h5::attr_string(f, "list_sha256");
  if (h5::has_attr(f, "list_rows")) r.list_rows = h5::attr_int(f, "list_rows");
  if (!h5::has_attr(f, "shard_count")) return r;
  const std::int64_t i = h5::attr_int(f, "shard_index"), n = h5::attr_int(f, "shard_count");
  EPE_CHECK(n >= 1 && n < 1000000000 && i >= 0 && i < n, "'", path, "': shard attributes ", i, "/", n,
            " are out of range");
  r.shard.index = static_cast<int>(i);
  r.shard.count = static_cast<int>(n);
  const auto [begin, end] = r.rows();
  EPE_CHECK(h5::attr_int(f, "row_begin") == begin && h5::attr_int(f, "row_end") == end, "'", path, "': shard ",
            r.shard.label(), " of a ", r.list_rows, "-row list should hold rows [", begin, ", ", end,
            "), its attributes say [", h5::attr_int(f, "row_begin"), ", ", h5::attr_int(f, "row_end"), ")");
  return r;
}

std::vector<std::size_t> order_shards(const std::vector<ShardRecord>& records, const std::vector<std::string>& paths) {
  EPE_ASSERT(records.size() == paths.size(), "order_shards: ", records.size(), " records, ", paths.size(), " paths");
  EPE_CHECK(!records.empty(), "no shards to merge");
  for (std::size_t k = 0; k < records.size(); ++k)
    EPE_CHECK(records[k].shard.active(), "'", paths[k],
              "' is not a shard (no shard_index/shard_count attributes); epe merge takes the outputs of --shard runs");
  const ShardRecord& first = records[0];
  for (std::size_t k = 1; k < records.size(); ++k) {
    const ShardRecord& r = records[k];
    EPE_CHECK(r.list_sha256 == first.list_sha256 && r.list_rows == first.list_rows, "'", paths[k],
              "' is a shard of another list than '", paths[0], "' (", r.list_rows, " rows, sha256 ",
              r.list_sha256.substr(0, 12), "… against ", first.list_rows, " rows, sha256 ",
              first.list_sha256.substr(0, 12), "…)");
    EPE_CHECK(r.shard.count == first.shard.count, "'", paths[k], "' is shard ", r.shard.label(), " but '", paths[0],
              "' is shard ", first.shard.label(), ": the shards come from splits into different numbers of parts");
  }
  const int n = first.shard.count;
  std::vector<long> at(n, -1);
  for (std::size_t k = 0; k < records.size(); ++k) {
    const int i = records[k].shard.index;
    EPE_CHECK(at[i] < 0, "shard ", records[k].shard.label(), " is given twice: '", paths[at[i]], "' and '", paths[k],
              "'");
    at[i] = static_cast<long>(k);
  }
  std::vector<std::string> missing;
  for (int i = 0; i < n; ++i)
    if (at[i] < 0) missing.push_back(std::to_string(i) + "/" + std::to_string(n));
  EPE_CHECK(missing.empty(), missing.size() == 1 ? "shard " : "shards ", join(missing, ", "), " of ", n,
            missing.size() == 1 ? " is" : " are", " missing (", records.size(), " of ", n, " given)");
  std::vector<std::size_t> order;
  for (int i = 0; i < n; ++i) order.push_back(static_cast<std::size_t>(at[i]));
  return order;
}

}  // namespace epe
