#pragma once
// A working folder for benchmarks and tools: the given path (created, kept), or a fresh
// temporary folder that is removed with its content on destruction.

#include <string>

namespace epe {

class ScratchDir {
 public:
  // `path` empty: <tmp>/<prefix>-<pid>, removed at the end; else `path`, created if needed, kept.
  ScratchDir(const std::string& path, const std::string& prefix);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
  bool remove_ = false;
};

}  // namespace epe
