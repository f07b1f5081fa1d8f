#pragma once
// Dataset file lists (docs/DESIGN.md §3), the reference implementation's format: one sample per
// line, comma-separated paths, relative paths resolved against the list's own folder;
// `#` comments and blank lines ignored; CRLF line ends tolerated.
//   synthetic rows: image, robust_labels, gbuffers, gt_labels
//   real rows:      image, robust_labels
// robust_labels may be left empty ("img.png,") until `epe segment` has filled it in, and gbuffers
// until `epe gbuffers pack` or `epe fake-gbuffers` has (stages that need them say so).
//
// Directives: comment lines `# epe: key = value` before or between rows say how the list's
// label maps are encoded and which material table its GT ids use (written by `epe lists`, kept
// by every stage that writes a derived list). Keys: robust_colors, robust_remap, gt_colors,
// gt_remap (LabelFormat table specs), robust_channel, gt_channel (r | g | b), materials (GT
// id -> material table); layout, split, root
// and source are recorded for people and ignored. Any other key is an error naming the line.
// (The reference's loaders do not skip `#` lines: `epe lists --plain` writes none.)

#include <string>
#include <utility>
#include <vector>

#include "epe/io/labels.h"

namespace epe {

enum class DatasetKind { synthetic, real };

// "synthetic" | "real"; UserError naming `option` otherwise.
DatasetKind parse_dataset_kind(const std::string& s, const std::string& option = "--kind");
const char* to_string(DatasetKind k);
// Number of columns a row of this kind has (4 or 2).
int list_columns(DatasetKind k);

struct ListRow {
  long line = 0;                    // 1-based line in the list file
  std::vector<std::string> fields;  // resolved paths ("" for an empty field)

  const std::string& image() const { return fields.at(0); }
  const std::string& robust_labels() const { return fields.at(1); }
  const std::string& gbuffers() const { return fields.at(2); }   // synthetic only
  const std::string& gt_labels() const { return fields.at(3); }  // synthetic only
};

// What a list's directives say. Table fields hold resolved file paths once read.
struct ListFormat {
  LabelFormat robust, gt;
  std::string materials;                                   // "" = the default table
  std::vector<std::pair<std::string, std::string>> notes;  // layout, split, root, source
  bool empty() const { return robust.plain() && gt.plain() && materials.empty() && notes.empty(); }
};

struct FileList {
  std::string path;  // the list file
  DatasetKind kind = DatasetKind::real;
  std::vector<ListRow> rows;
  ListFormat format;
};

// A row-level problem found while parsing (used by `epe check`).
struct ListIssue {
  long line = 0;
  std::string message;
};

// Strict reading: UserError "list.csv:12: ..." on the first malformed row, and on an
// empty list. With `issues` given, malformed rows are recorded there and skipped instead.
FileList read_file_list(const std::string& path, DatasetKind kind, std::vector<ListIssue>* issues = nullptr);

// For stages that only need the images (crops, metrics): reads a synthetic (4 columns) or real
// (2 columns) list, or a plain list of image paths (1 column, as the reference's crop scripts
// take), deciding by the first row. Rows of a plain list get an empty robust_labels field.
FileList read_image_list(const std::string& path);

// Splits one CSV line at commas, trimming spaces around each field (no quoting: paths in
// lists cannot contain commas).
std::vector<std::string> split_csv_fields(const std::string& line);

// Writes a list atomically; paths under the list's folder are written relative to it. `format`
// becomes `# epe:` directive lines at the top (shipped tables by name, other tables relative to
// the list's folder). With `relative_root`, paths under that folder are written relative to the
// list even when they lie outside the list's own folder (`../images/a.png`).
void write_file_list(const std::string& path, const std::vector<std::vector<std::string>>& rows,
                     const ListFormat& format = {}, const std::string& relative_root = "");

// `p` relative to `base_dir` when it lies inside it, else as an absolute path.
std::string relative_to(const std::string& p, const std::string& base_dir);

}  // namespace epe
