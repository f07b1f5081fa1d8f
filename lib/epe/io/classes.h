#pragma once
// Shipped class tables (data/, see data/README.md): MSeg universal class names and the
// Cityscapes → universal mapping. The data folder is found in this order: the
// EPE_DATA_DIR environment variable, `<exe>/../share/epe/data` (installed), then the
// source tree's data/ (development builds).

#include <cstddef>
#include <string>
#include <vector>

namespace epe {

// The data folder; UserError when none of the candidates has universal_classes.txt.
std::string data_dir();

// One row of a tab-separated table and its 1-based line in the file.
struct TableRow {
  long line = 0;
  std::vector<std::string> fields;
};
// The rows of a TSV table as the shipped ones are written: blank lines and `#` comment lines
// skipped, the first other line (the column names) skipped, CRLF tolerated. UserError naming
// the file when it cannot be read, and the file and line when a row has fewer than
// `min_fields` columns.
std::vector<TableRow> read_tsv_table(const std::string& path, std::size_t min_fields);

// The 194 MSeg universal class names, index = id.
const std::vector<std::string>& universal_class_names();
// Name of an id: the class name, "unlabeled" for 255, "id<N>" otherwise.
std::string universal_class_name(int id);

// Cityscapes label id (0..33) → universal id (255 = unlabeled), from
// cityscapes-34_to_universal.tsv. 256 entries; ids outside 0..33 map to 255.
const std::vector<int>& cityscapes_to_universal();

// Cityscapes label names, index = id (0..33), from the same table.
const std::vector<std::string>& cityscapes_class_names();

}  // namespace epe
