#include "epe/core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "epe/core/error.h"

namespace fs = std::filesystem;

namespace epe {
namespace {

std::atomic<unsigned> g_counter{0};

std::string unique_suffix() {
  return cat(".tmp-", ::getpid(), "-", g_counter++);
}

std::string parent_of(const std::string& path) {
  fs::path p = fs::path(path).parent_path();
  return p.empty() ? std::string(".") : p.string();
}

std::string temp_name_for(const std::string& final_path, bool keep_ext) {
  fs::path p(final_path);
  std::string name = "." + p.filename().string() + unique_suffix();
  if (keep_ext) name += p.extension().string();
  return (fs::path(parent_of(final_path)) / name).string();
}

}  // namespace

void check_output_path(const std::string& path, bool force, const std::string& option) {
  EPE_CHECK(!path.empty(), "option ", option, ": no output path given");
  std::error_code ec;
  if (fs::exists(path, ec) && !force)
    throw UserError(cat(option, " '", path, "' already exists; pass --force to overwrite it"));
  std::string dir = parent_of(path);
  EPE_CHECK(fs::is_directory(dir, ec), option, " '", path, "': folder '", dir, "' does not exist");
}

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw UserError(cat("cannot open '", path, "' to sync it: ", std::strerror(errno)));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  // Some file systems refuse fsync on folders (EINVAL); that is not a data-loss risk.
  if (rc != 0 && err != EINVAL) throw UserError(cat("cannot sync '", path, "' to disk: ", std::strerror(err)));
}

AtomicFile::AtomicFile(std::string final_path) : final_(std::move(final_path)) {
  std::error_code ec;
  std::string dir = parent_of(final_);
  EPE_CHECK(fs::is_directory(dir, ec), "cannot write '", final_, "': folder '", dir, "' does not exist");
  temp_ = temp_name_for(final_, true);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

void AtomicFile::write(const void* data, std::size_t n) {
  EPE_ASSERT(!committed_, "write after commit");
  if (fd_ < 0) {
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw UserError(cat("cannot create '", temp_, "' (for '", final_, "'): ", std::strerror(errno)));
  }
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw UserError(cat("cannot write '", final_, "': ", std::strerror(errno)));
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

void AtomicFile::commit() {
  EPE_ASSERT(!committed_, "commit twice");
  if (fd_ >= 0) {
    if (::fsync(fd_) != 0) throw UserError(cat("cannot sync '", final_, "' to disk: ", std::strerror(errno)));
    ::close(fd_);
    fd_ = -1;
  } else {
    std::error_code ec;
    EPE_CHECK(fs::exists(temp_, ec), "nothing was written for '", final_, "'");
    fsync_path(temp_);
  }
  if (::rename(temp_.c_str(), final_.c_str()) != 0)
    throw UserError(cat("cannot move '", temp_, "' to '", final_, "': ", std::strerror(errno)));
  committed_ = true;
  fsync_path(parent_of(final_));
}

AtomicDir::AtomicDir(std::string final_path, bool force) : final_(std::move(final_path)), force_(force) {
  while (final_.size() > 1 && final_.back() == '/') final_.pop_back();
  check_output_path(final_, force_);
  temp_ = temp_name_for(final_, false);
  std::error_code ec;
  fs::create_directory(temp_, ec);
  if (ec) throw UserError(cat("cannot create folder '", temp_, "': ", ec.message()));
}

AtomicDir::~AtomicDir() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(temp_, ec);
  }
}

void AtomicDir::commit() {
  EPE_ASSERT(!committed_, "commit twice");
  std::error_code ec;
  // Flush every file before the folder becomes visible under its final name.
  for (auto it = fs::recursive_directory_iterator(temp_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_regular_file(ec)) fsync_path(it->path().string());
  fsync_path(temp_);
  std::string old;
  if (fs::exists(final_, ec)) {
    EPE_CHECK(force_, "'", final_, "' already exists; pass --force to overwrite it");
    old = temp_name_for(final_, false) + ".old";
    fs::rename(final_, old, ec);
    if (ec) throw UserError(cat("cannot move the old '", final_, "' aside: ", ec.message()));
  }
  fs::rename(temp_, final_, ec);
  if (ec) {
    if (!old.empty()) fs::rename(old, final_, ec);
    throw UserError(cat("cannot move '", temp_, "' to '", final_, "'"));
  }
  committed_ = true;
  fsync_path(parent_of(final_));
  if (!old.empty()) fs::remove_all(old, ec);
}

void write_file_atomic(const std::string& path, const std::string& content) {
  AtomicFile f(path);
  f.write(content);
  f.commit();
}

void ensure_output_dir(const std::string& dir, const std::string& option) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return;
  EPE_CHECK(!std::filesystem::exists(dir, ec), "option ", option, ": '", dir, "' is a file, expected a folder");
  std::filesystem::create_directories(dir, ec);
  EPE_CHECK(!ec, "option ", option, ": cannot create folder '", dir, "': ", ec.message());
}

}  // namespace epe
