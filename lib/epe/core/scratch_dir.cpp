#include "epe/core/scratch_dir.h"

#include <unistd.h>

#include <filesystem>

#include "epe/core/error.h"

namespace fs = std::filesystem;

namespace epe {

ScratchDir::ScratchDir(const std::string& path, const std::string& prefix) : remove_(path.empty()) {
  path_ = remove_ ? (fs::temp_directory_path() / cat(prefix, "-", ::getpid())).string() : path;
  std::error_code ec;
  fs::create_directories(path_, ec);
  EPE_CHECK(!ec, "cannot create folder '", path_, "': ", ec.message());
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  if (remove_) fs::remove_all(path_, ec);
}

}  // namespace epe
