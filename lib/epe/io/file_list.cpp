#include "epe/io/file_list.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"

namespace fs = std::filesystem;

namespace epe {

DatasetKind parse_dataset_kind(const std::string& s, const std::string& option) {
  if (s == "synthetic") return DatasetKind::synthetic;
  if (s == "real") return DatasetKind::real;
  throw UserError(cat("option ", option, ": '", s, "' is not a dataset kind (use synthetic or real)"));
}

const char* to_string(DatasetKind k) {
  return k == DatasetKind::synthetic ? "synthetic" : "real";
}

int list_columns(DatasetKind k) {
  return k == DatasetKind::synthetic ? 4 : 2;
}

namespace {
std::string trim(const std::string& s) {
  std::size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  std::size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}
const char* column_names(DatasetKind k) {
  return k == DatasetKind::synthetic ? "image, robust_labels, gbuffers, gt_labels" : "image, robust_labels";
}
}  // namespace

std::vector<std::string> split_csv_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (;;) {
    std::size_t comma = line.find(',', start);
    fields.push_back(trim(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (comma == std::string::npos) return fields;
    start = comma + 1;
  }
}

namespace {
// Calls fn(line number, fields) for every row that is not blank or a comment.
template <class F>
void for_each_row(const std::string& path, F&& fn) {
  std::error_code ec;
  EPE_CHECK(fs::exists(path, ec), "file list '", path, "' does not exist");
  EPE_CHECK(!fs::is_directory(path, ec), "file list '", path, "' is a folder, expected a CSV file");
  std::ifstream in(path, std::ios::binary);
  EPE_CHECK(in, "cannot read file list '", path, "'");
  std::string line;
  long n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (!fn(n, split_csv_fields(t))) return;
  }
}

ListRow make_row(long n, const std::vector<std::string>& fields, const fs::path& base) {
  ListRow row;
  row.line = n;
  for (auto& f : fields) {
    if (f.empty() || fs::path(f).is_absolute() || base.empty())
      row.fields.push_back(f);
    else
      row.fields.push_back((base / f).lexically_normal().string());
  }
  return row;
}

[[noreturn]] void empty_list(const std::string& path) {
  throw UserError(cat("file list '", path, "' is empty (no rows besides comments and blank lines)"));
}
}  // namespace

FileList read_file_list(const std::string& path, DatasetKind kind, std::vector<ListIssue>* issues) {
  FileList list;
  list.path = path;
  list.kind = kind;
  const fs::path base = fs::path(path).parent_path();
  const int want = list_columns(kind);
  for_each_row(path, [&](long n, const std::vector<std::string>& fields) {
    std::string problem;
    if (static_cast<int>(fields.size()) != want)
      problem = cat("expected ", want, " comma-separated columns for a ", to_string(kind), " list (",
                    column_names(kind), "), found ", fields.size());
    else if (fields[0].empty())
      problem = "the image column is empty";
    else if (kind == DatasetKind::synthetic && (fields[2].empty() || fields[3].empty()))
      problem = "the gbuffers and gt_labels columns must not be empty in a synthetic list";
    if (!problem.empty()) {
      if (!issues) throw UserError(at_line(path, n, problem));
      issues->push_back({n, problem});
    } else {
      list.rows.push_back(make_row(n, fields, base));
    }
    return true;
  });
  if (list.rows.empty() && (!issues || issues->empty())) empty_list(path);
  return list;
}

FileList read_image_list(const std::string& path) {
  std::size_t columns = 0;
  for_each_row(path, [&](long, const std::vector<std::string>& fields) {
    columns = fields.size();
    return false;
  });
  if (columns == 4) return read_file_list(path, DatasetKind::synthetic);
  if (columns == 2) return read_file_list(path, DatasetKind::real);
  if (columns == 0) empty_list(path);
  // A plain list of image paths; rows get an empty robust_labels field.
  FileList list;
  list.path = path;
  list.kind = DatasetKind::real;
  const fs::path base = fs::path(path).parent_path();
  for_each_row(path, [&](long n, const std::vector<std::string>& fields) {
    EPE_CHECK(fields.size() == 1 && !fields[0].empty(),
              at_line(path, n,
                      cat("expected 1 (image), 2 (real) or 4 (synthetic) comma-separated columns like ",
                          "the first row, found ", fields.size())));
    list.rows.push_back(make_row(n, {fields[0], ""}, base));
    return true;
  });
  return list;
}

std::string relative_to(const std::string& p, const std::string& base_dir) {
  if (p.empty()) return p;
  fs::path abs = fs::absolute(p).lexically_normal();
  fs::path base = fs::absolute(base_dir.empty() ? "." : base_dir).lexically_normal();
  fs::path rel = abs.lexically_relative(base);
  if (rel.empty() || *rel.begin() == "..") return abs.string();  // outside: absolute, never cwd-relative
  return rel.string();
}

void write_file_list(const std::string& path, const std::vector<std::vector<std::string>>& rows) {
  std::string base = fs::path(path).parent_path().string();
  std::string text;
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) {
      std::string rel = relative_to(r[i], base);
      EPE_CHECK(rel.find(',') == std::string::npos, "cannot write '", path, "': path '", rel, "' contains a comma");
      text += (i ? "," : "") + rel;
    }
    text += "\n";
  }
  write_file_atomic(path, text);
}

}  // namespace epe
