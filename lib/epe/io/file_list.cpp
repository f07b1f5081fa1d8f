#include "epe/io/file_list.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/io/classes.h"

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
// `# epe: key = value` -> {key, value}; {"", ""} for any other line.
std::pair<std::string, std::string> directive(const std::string& t) {
  if (t.size() < 6 || t[0] != '#') return {};
  std::size_t a = t.find_first_not_of(" \t", 1);
  if (a == std::string::npos || t.compare(a, 4, "epe:") != 0) return {};
  std::string rest = t.substr(a + 4);
  std::size_t eq = rest.find('=');
  if (eq == std::string::npos) return {trim(rest), ""};
  return {trim(rest.substr(0, eq)), trim(rest.substr(eq + 1))};
}

void apply_directive(ListFormat& f, const std::string& path, long n, const std::string& key, const std::string& value) {
  EPE_CHECK(!value.empty(), at_line(path, n, cat("directive '", key, "' has no value (# epe: ", key, " = VALUE)")));
  const std::string base = fs::path(path).parent_path().string();
  auto table = [&](const char* what) { return resolve_label_table(value, at_line(path, n, what), base); };
  if (key == "robust_colors")
    f.robust.colors = table("colour table");
  else if (key == "robust_remap")
    f.robust.remap = table("id table");
  else if (key == "gt_colors")
    f.gt.colors = table("colour table");
  else if (key == "gt_remap")
    f.gt.remap = table("id table");
  else if (key == "robust_channel" || key == "gt_channel") {
    const std::size_t c = std::string("rgb").find(value);
    EPE_CHECK(value.size() == 1 && c != std::string::npos,
              at_line(path, n, cat("directive '", key, "' must be r, g or b, not '", value, "'")));
    (key == "gt_channel" ? f.gt : f.robust).channel = static_cast<int>(c);
  } else if (key == "materials")
    f.materials = table("material table");
  else if (key == "layout" || key == "split" || key == "root" || key == "source")
    f.notes.emplace_back(key, value);
  else
    throw UserError(at_line(path, n,
                            cat("unknown directive '", key,
                                "' (known: robust_colors, robust_remap, robust_channel, "
                                "gt_colors, gt_remap, gt_channel, materials, layout, split, root, source)")));
}

// Calls fn(line number, fields) for every row that is not blank or a comment; directives go
// into `format` when given.
template <class F>
void for_each_row(const std::string& path, F&& fn, ListFormat* format = nullptr) {
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
    if (!t.empty() && t[0] == '#' && format) {
      auto [key, value] = directive(t);
      if (!key.empty()) apply_directive(*format, path, n, key, value);
    }
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
  for_each_row(
      path,
      [&](long n, const std::vector<std::string>& fields) {
        std::string problem;
        if (static_cast<int>(fields.size()) != want)
          problem = cat("expected ", want, " comma-separated columns for a ", to_string(kind), " list (",
                        column_names(kind), "), found ", fields.size());
        else if (fields[0].empty())
          problem = "the image column is empty";
        else if (kind == DatasetKind::synthetic && fields[3].empty())
          problem = "the gt_labels column must not be empty in a synthetic list";
        if (!problem.empty()) {
          if (!issues) throw UserError(at_line(path, n, problem));
          issues->push_back({n, problem});
        } else {
          list.rows.push_back(make_row(n, fields, base));
        }
        return true;
      },
      &list.format);
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
  for_each_row(
      path,
      [&](long n, const std::vector<std::string>& fields) {
        EPE_CHECK(fields.size() == 1 && !fields[0].empty(),
                  at_line(path, n,
                          cat("expected 1 (image), 2 (real) or 4 (synthetic) comma-separated columns like ",
                              "the first row, found ", fields.size())));
        list.rows.push_back(make_row(n, {fields[0], ""}, base));
        return true;
      },
      &list.format);
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

namespace {
// A table path as a directive value: the shipped table's name, or a path relative to the list.
std::string table_value(const std::string& p, const std::string& base) {
  std::error_code ec;
  const fs::path data = fs::weakly_canonical(data_dir(), ec);
  const fs::path abs = fs::weakly_canonical(p, ec);
  for (const char* sub : {"labels", "mseg", "materials"})
    if (abs.parent_path() == data / sub) return abs.stem().string();  // resolves to the same file again
  return relative_to(p, base);
}
}  // namespace

void write_file_list(const std::string& path, const std::vector<std::vector<std::string>>& rows,
                     const ListFormat& format, const std::string& relative_root) {
  std::string base = fs::path(path).parent_path().string();
  std::string text;
  for (const auto& [k, v] : format.notes) text += "# epe: " + k + " = " + v + "\n";
  auto table = [&](const char* key, const std::string& p) {
    if (!p.empty()) text += cat("# epe: ", key, " = ", table_value(p, base), "\n");
  };
  table("robust_colors", format.robust.colors);
  table("robust_remap", format.robust.remap);
  table("gt_colors", format.gt.colors);
  table("gt_remap", format.gt.remap);
  table("materials", format.materials);
  for (auto [key, f] : {std::make_pair("robust_channel", &format.robust), std::make_pair("gt_channel", &format.gt)})
    if (f->channel >= 0) text += cat("# epe: ", key, " = ", "rgb"[f->channel], "\n");
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) {
      std::string rel = relative_to(r[i], base);
      if (!relative_root.empty() && fs::path(rel).is_absolute() &&
          !fs::path(relative_to(r[i], relative_root)).is_absolute())
        rel = fs::path(rel).lexically_relative(fs::absolute(base.empty() ? "." : base).lexically_normal()).string();
      EPE_CHECK(rel.find(',') == std::string::npos, "cannot write '", path, "': path '", rel, "' contains a comma");
      text += (i ? "," : "") + rel;
    }
    text += "\n";
  }
  write_file_atomic(path, text);
}

}  // namespace epe
