#include "epe/io/classes.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "epe/core/error.h"
#include "epe/core/version.h"
#include "epe/io/label_ids.h"

namespace fs = std::filesystem;

namespace epe {

std::string data_dir() {
  static std::string dir;
  static std::once_flag once;
  std::call_once(once, [] {
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("EPE_DATA_DIR")) candidates.push_back(env);
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) {
      buf[n] = 0;
      candidates.push_back((fs::path(buf).parent_path().parent_path() / "share/epe/data").string());
    }
    candidates.push_back(EPE_SOURCE_DATA_DIR);
    for (auto& c : candidates)
      if (fs::exists(fs::path(c) / "mseg/universal_classes.txt")) {
        dir = c;
        return;
      }
  });
  EPE_CHECK(!dir.empty(), "cannot find epe's data folder (mseg/universal_classes.txt); set EPE_DATA_DIR");
  return dir;
}

std::vector<TableRow> read_tsv_table(const std::string& path, std::size_t min_fields) {
  std::ifstream in(path);
  EPE_CHECK(in, "cannot read table '", path, "'");
  std::vector<TableRow> rows;
  std::string line;
  long n = 0;
  bool header = true;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (header) {
      header = false;
      continue;
    }
    TableRow row{n, {}};
    for (std::size_t a = 0;;) {
      const std::size_t t = line.find('\t', a);
      row.fields.push_back(line.substr(a, t == std::string::npos ? std::string::npos : t - a));
      if (t == std::string::npos) break;
      a = t + 1;
    }
    if (row.fields.size() < min_fields)
      throw UserError(
          at_line(path, n, cat("expected at least ", min_fields, " tab-separated columns, found ", row.fields.size())));
    rows.push_back(std::move(row));
  }
  return rows;
}

const std::vector<std::string>& universal_class_names() {
  static std::vector<std::string> names;
  static std::once_flag once;
  std::call_once(once, [] {
    std::string path = data_dir() + "/mseg/universal_classes.txt";
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      names.push_back(line);
    }
  });
  EPE_CHECK(names.size() == kUniversalClasses, "'", data_dir(), "/mseg/universal_classes.txt' must have ",
            kUniversalClasses, " lines, has ", names.size());
  return names;
}

std::string universal_class_name(int id) {
  if (id == 255) return "unlabeled";
  const auto& n = universal_class_names();
  if (id >= 0 && id < static_cast<int>(n.size())) return n[id];
  return cat("id", id);
}

namespace {

// cityscapes-34_to_universal.tsv, read once: id -> universal id, and id -> Cityscapes name.
struct CityscapesTable {
  std::vector<int> to_universal;
  std::vector<std::string> names;
};

const CityscapesTable& cityscapes_table() {
  static CityscapesTable t;
  static std::once_flag once;
  std::call_once(once, [] {
    t.to_universal.assign(256, 255);
    const std::string path = data_dir() + "/mseg/cityscapes-34_to_universal.tsv";
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return;  // reported below
    for (const TableRow& row : read_tsv_table(path, 3)) {
      const int id = std::atoi(row.fields[0].c_str());
      if (row.fields[0].empty() || id < 0 || id > 254) continue;
      t.to_universal[id] = std::atoi(row.fields[2].c_str());
      if (static_cast<int>(t.names.size()) <= id) t.names.resize(id + 1);
      t.names[id] = row.fields[1];
    }
  });
  EPE_CHECK(t.to_universal[7] == 98 && t.names.size() >= 34 && t.names[7] == "road", "'", data_dir(),
            "/mseg/cityscapes-34_to_universal.tsv' is missing or damaged");
  return t;
}

}  // namespace

const std::vector<int>& cityscapes_to_universal() {
  return cityscapes_table().to_universal;
}

const std::vector<std::string>& cityscapes_class_names() {
  return cityscapes_table().names;
}

}  // namespace epe
