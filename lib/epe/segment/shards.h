#pragma once
// The pieces of `epe segment` that a sharded run and `epe merge segment` share: where label maps
// and the list go, and the marker a finished shard leaves (OUT/shards/I-of-N.done).
//
// Marker text: "key = value" lines (list, out, list_sha256, list_rows, shard, rows), then a line
// "[record]" and the folder's segment.ini record (model provenance + options) verbatim.

#include <string>
#include <vector>

#include "epe/io/shard_record.h"

namespace epe {

struct FileList;

struct SegmentShardMarker {
  ShardRecord shard;
  std::string list;    // the list file as given to the shard run
  std::string out;     // OUT as given (label paths in the list start with it)
  std::string record;  // OUT/segment.ini's content

  std::string text() const;
  // UserError naming `path` when the text is not a marker.
  static SegmentShardMarker parse(const std::string& text, const std::string& path);
};

// The whole content of a small text file (markers, segment.ini); UserError naming it.
std::string read_text_file(const std::string& path);

std::string segment_marker_path(const std::string& out, const Shard& shard);
// OUT/labels/NNNNNN_<stem>.png for every row of the list (NNNNNN = the global row).
std::vector<std::string> segment_label_paths(const std::string& out, const FileList& list);
// OUT/<list stem>.csv
std::string segment_list_path(const std::string& out, const std::string& list_path);
// The input's columns with robust_labels = label_paths (epe's plain ids; GT columns keep theirs).
void write_segment_list(const std::string& path, const FileList& list, const std::vector<std::string>& label_paths);

}  // namespace epe
