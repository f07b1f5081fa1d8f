#include "epe/segment/shards.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/options.h"
#include "epe/core/sha256.h"
#include "epe/io/file_list.h"
#include "epe/segment/segment.h"

namespace fs = std::filesystem;

namespace epe {

namespace {
constexpr const char* kRecordLine = "[record]\n";
}

std::string SegmentShardMarker::text() const {
  const auto [begin, end] = shard.rows();
  return cat("# epe segment: shard ", shard.shard.label(), " is complete\n", "list = ", list, "\n", "out = ", out, "\n",
             "list_sha256 = ", shard.list_sha256, "\n", "list_rows = ", shard.list_rows, "\n",
             "shard = ", shard.shard.label(), "\n", "rows = ", begin, " ", end, "\n", kRecordLine, record);
}

SegmentShardMarker SegmentShardMarker::parse(const std::string& text, const std::string& path) {
  const auto at = text.find(kRecordLine);
  EPE_CHECK(text.rfind("# epe segment: shard ", 0) == 0 && at != std::string::npos, "'", path,
            "' is not the marker of an epe segment shard (OUT/shards/I-of-N.done)");
  SegmentShardMarker m;
  m.record = text.substr(at + std::string(kRecordLine).size());
  std::string rows;
  for (const auto& [k, v] : parse_key_values(text.substr(0, at))) {
    if (k == "list") m.list = v;
    if (k == "out") m.out = v;
    if (k == "list_sha256") m.shard.list_sha256 = v;
    if (k == "list_rows") m.shard.list_rows = std::stoll(v);
    if (k == "shard") m.shard.shard = parse_shard(v, cat("'shard' in '", path, "'"));
    if (k == "rows") rows = v;
  }
  EPE_CHECK(!m.list.empty() && !m.out.empty() && m.shard.shard.active(), "'", path, "' lacks list, out or shard");
  const auto [begin, end] = m.shard.rows();
  EPE_CHECK(rows == cat(begin, " ", end), "'", path, "': rows '", rows, "' are not shard ", m.shard.shard.label(),
            "'s rows of a ", m.shard.list_rows, "-row list");
  return m;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EPE_CHECK(in.good(), "cannot read '", path, "'");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string segment_marker_path(const std::string& out, const Shard& shard) {
  return (fs::path(out) / "shards" / cat(shard.index, "-of-", shard.count, ".done")).string();
}

std::vector<std::string> segment_label_paths(const std::string& out, const FileList& list) {
  const fs::path dir = fs::path(out) / "labels";
  std::vector<std::string> paths;
  for (size_t i = 0; i < list.rows.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "%06zu_", i);
    paths.push_back((dir / (name + fs::path(list.rows[i].image()).stem().string() + ".png")).string());
  }
  return paths;
}

std::string segment_list_path(const std::string& out, const std::string& list_path) {
  return (fs::path(out) / (fs::path(list_path).stem().string() + ".csv")).string();
}

void write_segment_list(const std::string& path, const FileList& list, const std::vector<std::string>& label_paths) {
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < list.rows.size(); ++i) {
    std::vector<std::string> r = list.rows[i].fields;
    r[1] = label_paths[i];
    rows.push_back(r);
  }
  // Its robust labels are now epe's plain ids; the GT columns keep their encoding.
  ListFormat format = list.format;
  format.robust = {};
  write_file_list(path, rows, format);
}

SegmentMergeResult merge_segment_shards(const std::vector<std::string>& shards, const std::string& out, bool force) {
  EPE_CHECK(!out.empty(), "option --out is required");
  // Folders stand for the markers in their shards/ subfolder.
  std::vector<std::string> files;
  std::error_code ec;
  for (const std::string& s : shards) {
    if (!fs::is_directory(s, ec)) {
      files.push_back(s);
      continue;
    }
    std::set<std::string> found;
    for (const auto& e : fs::directory_iterator(fs::path(s) / "shards", ec))
      if (e.path().extension() == ".done") found.insert(e.path().string());
    EPE_CHECK(!found.empty(), "'", s, "' holds no shard markers (shards/*.done); no shard of it has finished");
    files.insert(files.end(), found.begin(), found.end());
  }
  std::vector<SegmentShardMarker> markers;
  std::vector<ShardRecord> records;
  for (const std::string& f : files) {
    markers.push_back(SegmentShardMarker::parse(read_text_file(f), f));
    records.push_back(markers.back().shard);
  }
  const std::vector<std::size_t> order = order_shards(records, files);
  const SegmentShardMarker& first = markers[order[0]];
  for (std::size_t k : order) {
    EPE_CHECK(markers[k].record == first.record, "'", files[k], "' was made with another model or other options than '",
              files[order[0]], "'");
    EPE_CHECK(markers[k].out == first.out && markers[k].list == first.list, "'", files[k], "' labelled list '",
              markers[k].list, "' into '", markers[k].out, "', '", files[order[0]], "' list '", first.list, "' into '",
              first.out, "'");
  }
  EPE_CHECK(fs::equivalent(out, first.out, ec), "option --out: '", out, "' is not the folder the shards wrote ('",
            first.out, "')");
  const FileList list = read_image_list(first.list);
  EPE_CHECK(sha256_file(first.list) == first.shard.list_sha256 &&
                static_cast<std::int64_t>(list.rows.size()) == first.shard.list_rows,
            "list '", first.list, "' changed since the shards labelled it; rerun them");
  const std::vector<std::string> labels = segment_label_paths(first.out, list);
  for (std::size_t i = 0; i < labels.size(); ++i)
    EPE_CHECK(fs::exists(labels[i], ec), "label map '", labels[i], "' of list row ", i + 1, " is missing");
  SegmentMergeResult res;
  res.list_out = segment_list_path(first.out, first.list);
  check_output_path(res.list_out, force, "--out");
  write_segment_list(res.list_out, list, labels);
  res.shards = static_cast<int>(order.size());
  res.frames = static_cast<std::int64_t>(list.rows.size());
  return res;
}

std::string format_summary(const SegmentMergeResult& r) {
  return cat("merge: ", r.shards, " shards, ", r.frames, " frames labelled\n  list: ", r.list_out, "\n");
}

}  // namespace epe
