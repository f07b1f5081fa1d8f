#include "epe/io/image_set.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "epe/core/error.h"
#include "epe/core/sha256.h"
#include "epe/io/file_list.h"

namespace fs = std::filesystem;

namespace epe {

bool is_image_file(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

std::string ImageSet::where(std::size_t i) const {
  return lines.at(i) > 0 ? cat(source, ":", lines[i]) : images.at(i);
}

ImageSet read_image_set(const std::string& src) {
  ImageSet s;
  s.source = src;
  std::error_code ec;
  if (fs::is_directory(src, ec)) {
    for (const auto& e : fs::directory_iterator(src)) {
      if (e.is_regular_file() && is_image_file(e.path().string())) s.images.push_back(e.path().string());
    }
    std::sort(s.images.begin(), s.images.end());
    EPE_CHECK(!s.images.empty(), "folder '", src, "' has no PNG or JPEG images");
    s.labels.assign(s.images.size(), "");
    s.gt_labels.assign(s.images.size(), "");
    s.lines.assign(s.images.size(), 0);
  } else {
    const FileList list = read_image_list(src);
    s.label_format = list.format.robust;
    s.gt_format = list.format.gt;
    for (const ListRow& r : list.rows) {
      s.images.push_back(r.image());
      s.labels.push_back(r.fields.size() >= 2 ? r.fields[1] : "");
      s.gt_labels.push_back(r.fields.size() >= 4 ? r.fields[3] : "");
      s.lines.push_back(r.line);
    }
  }
  Sha256 h;
  for (std::size_t i = 0; i < s.images.size(); ++i) {
    const std::string& p = s.images[i];
    EPE_CHECK(fs::is_regular_file(p, ec), s.where(i), ": image '", p, "' does not exist");
    const auto size = fs::file_size(p, ec);
    const auto mtime = fs::last_write_time(p, ec).time_since_epoch().count();
    const std::string line = cat(fs::absolute(p).lexically_normal().string(), "\t", size, "\t", mtime, "\n");
    h.update(line.data(), line.size());
  }
  s.checksum = h.hex_digest();
  return s;
}

}  // namespace epe
