#include "epe/io/folder_shards.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/options.h"
#include "epe/io/file_list.h"

namespace fs = std::filesystem;

namespace epe {

std::string FolderShard::text() const {
  const auto [b, e] = shard.rows();
  return cat("kind = ", kind, "\nlist = ", list, "\nlist_sha256 = ", shard.list_sha256,
             "\nlist_rows = ", shard.list_rows, "\nshard = ", shard.shard.label(), "\nrows = ", b, "-", e,
             "\nname = ", name, "\n[record]\n", record);
}

FolderShard FolderShard::parse(const std::string& text, const std::string& path) {
  FolderShard s;
  const std::size_t rec = text.find("[record]\n");
  EPE_CHECK(rec != std::string::npos, "'", path, "' is not a shard record (no [record] line)");
  s.record = text.substr(rec + 9);
  std::istringstream in(text.substr(0, rec));
  std::string line, shard;
  while (std::getline(in, line)) {
    const std::size_t eq = line.find(" = ");
    EPE_CHECK(eq != std::string::npos, "'", path, "': cannot read the line '", line, "'");
    const std::string k = line.substr(0, eq), v = line.substr(eq + 3);
    if (k == "kind")
      s.kind = v;
    else if (k == "list")
      s.list = v;
    else if (k == "list_sha256")
      s.shard.list_sha256 = v;
    else if (k == "list_rows")
      s.shard.list_rows = std::stoll(v);
    else if (k == "shard")
      shard = v;
    else if (k == "name")
      s.name = v;
  }
  EPE_CHECK(!s.kind.empty() && !s.name.empty() && !shard.empty() && s.shard.list_rows >= 0, "'", path,
            "' lacks kind, name or shard");
  s.shard.shard = parse_shard(shard, cat("shard in '", path, "'"));
  return s;
}

FolderShard folder_shard_of(const std::string& kind, const std::string& list, std::int64_t rows, const Shard& shard,
                            const std::string& name, const std::string& record) {
  FolderShard s;
  s.kind = kind;
  s.list = list;
  s.name = name;
  s.shard = shard_record_of_list(list, rows, shard);
  s.record = record;
  return s;
}

std::string folder_shard_file(const std::string& dir) {
  return (fs::path(dir) / "shard.ini").string();
}

namespace {
std::string read_whole(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EPE_CHECK(f, "cannot read '", path, "'");
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}
}  // namespace

bool folder_shard_complete(const std::string& dir, const FolderShard& want, bool force) {
  std::error_code ec;
  if (force || !fs::exists(dir, ec)) return false;
  std::string why;
  if (!fs::exists(folder_shard_file(dir), ec)) {
    why = "it is not a shard folder (no shard.ini)";
  } else {
    const FolderShard have = FolderShard::parse(read_whole(folder_shard_file(dir)), folder_shard_file(dir));
    if (have.kind != want.kind)
      why = cat("it is a shard of epe ", have.kind);
    else if (!(have.shard == want.shard))
      why = cat("it is shard ", have.shard.shard.label(),
                have.shard.list_sha256 == want.shard.list_sha256 ? "" : " of another list");
    else if (const std::string d = first_line_difference(have.record, want.record); !d.empty())
      why = cat("it was made differently (", d, ")");
    else if (have.name != want.name)
      why = cat("its list is named ", have.name);
  }
  if (why.empty()) return true;
  throw UserError(cat("option --out: '", dir, "' exists and is not this shard's finished folder (", why,
                      "); pass --force to replace it"));
}

FolderShardStart start_folder_shard(const std::string& kind, const std::string& list, std::int64_t rows,
                                    const Shard& shard, const std::string& name,
                                    const std::function<std::string()>& record, const std::string& out, bool force) {
  FolderShardStart s;
  s.list = (fs::path(out) / (name + ".csv")).string();
  if (!shard.active()) return s;
  s.shard = folder_shard_of(kind, list, rows, shard, name, record());
  s.already_complete = folder_shard_complete(out, s.shard, force);
  return s;
}

FolderMergeResult merge_folder_shards(const std::string& kind, const std::vector<std::string>& dirs,
                                      const std::string& out, bool force) {
  EPE_CHECK(!out.empty(), "option --out is required");
  EPE_CHECK(!dirs.empty(), "epe merge ", kind, ": no shard folders given");
  for (const std::string& d : dirs)
    EPE_CHECK(fs::absolute(d).lexically_normal() != fs::absolute(out).lexically_normal(), "option --out: '", out,
              "' is also one of the shard folders to merge");
  std::vector<FolderShard> shards;
  std::vector<ShardRecord> records;
  for (const std::string& d : dirs) {
    std::error_code ec;
    EPE_CHECK(fs::exists(folder_shard_file(d), ec), "'", d, "' is not a shard folder of epe ", kind,
              " (no shard.ini; was it run with --shard?)");
    shards.push_back(FolderShard::parse(read_whole(folder_shard_file(d)), folder_shard_file(d)));
    EPE_CHECK(shards.back().kind == kind, "'", d, "' is a shard folder of epe ", shards.back().kind, ", not of epe ",
              kind);
    records.push_back(shards.back().shard);
  }
  const std::vector<std::size_t> order = order_shards(records, dirs);
  const FolderShard& first = shards[order[0]];
  for (std::size_t k : order) {
    const FolderShard& s = shards[k];
    EPE_CHECK(s.name == first.name, "'", dirs[k], "' wrote the list ", s.name, ".csv, '", dirs[order[0]], "' ",
              first.name, ".csv; all shards must come from the same command but for --shard and --out");
    const std::string d = first_line_difference(first.record, s.record);
    EPE_CHECK(d.empty(), "'", dirs[k], "' was made differently from '", dirs[order[0]], "' (", d,
              "); all shards must come from the same command but for --shard and --out");
  }

  AtomicDir od(out, force);
  const fs::path tmp = od.temp_path();
  FolderMergeResult res;
  std::vector<std::vector<std::string>> rows;
  ListFormat format;
  for (std::size_t k : order) {
    const std::string dir = fs::absolute(dirs[k]).lexically_normal().string();
    const FileList list = read_file_list((fs::path(dir) / (first.name + ".csv")).string(), DatasetKind::synthetic);
    const auto [b, e] = shards[k].shard.rows();
    EPE_CHECK(static_cast<std::int64_t>(list.rows.size()) == e - b, "'", list.path, "' has ", list.rows.size(),
              " rows; shard ", shards[k].shard.shard.label(), " holds ", e - b, " (is the folder complete?)");
    if (k == order[0]) format = list.format;
    for (const ListRow& row : list.rows) {
      std::vector<std::string> fields = row.fields;
      for (std::string& f : fields) {
        if (f.empty()) continue;
        f = fs::absolute(f).lexically_normal().string();
        if (f.rfind(dir + "/", 0) != 0) continue;  // a file outside the shard folder: kept as it is
        const fs::path to = tmp / f.substr(dir.size() + 1);
        fs::create_directories(to.parent_path());
        std::error_code ec;
        fs::create_hard_link(f, to, ec);  // the same bytes; a copy where links are not possible
        if (ec) fs::copy_file(f, to, fs::copy_options::overwrite_existing);
        f = to.string();
        ++res.files;
      }
      rows.push_back(fields);
    }
  }
  EPE_CHECK(static_cast<std::int64_t>(rows.size()) == first.shard.list_rows, "the shards hold ", rows.size(),
            " rows, the list has ", first.shard.list_rows);
  write_file_list((tmp / (first.name + ".csv")).string(), rows, format);
  od.commit();
  res.shards = static_cast<int>(order.size());
  res.rows = static_cast<std::int64_t>(rows.size());
  res.list = (fs::path(out) / (first.name + ".csv")).string();
  return res;
}

std::string format_summary(const FolderMergeResult& r) {
  return cat("merge: ", r.shards, " shards, ", r.rows, " rows, ", r.files, " files\n  list: ", r.list, "\n");
}

}  // namespace epe
