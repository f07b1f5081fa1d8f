#pragma once
// Crash-safe outputs. Anything a command produces is first written under a temporary
// name in the same folder as the final file (same file system, so rename is atomic),
// flushed to disk, then renamed into place. If anything fails before commit(), the
// destructor deletes the temporary and nothing appears under the final name.

#include <cstddef>
#include <string>

namespace epe {

// Throws UserError when `path` exists and `force` is false ("... exists; pass --force
// to overwrite"), or when its folder does not exist. `option` names the CLI option
// the path came from (e.g. "--out"), for the message.
void check_output_path(const std::string& path, bool force, const std::string& option = "--out");
// Creates the output folder `dir` (and its parents) when missing; UserError naming `option` when
// it is a file or cannot be created.
void ensure_output_dir(const std::string& dir, const std::string& option = "--out");

class AtomicFile {
 public:
  // `final_path`'s folder must exist. The temporary keeps the final extension so that
  // writers that choose a format by extension (OpenCV) behave the same.
  explicit AtomicFile(std::string final_path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::string& temp_path() const { return temp_; }
  const std::string& final_path() const { return final_; }

  // Appends bytes to the temporary (opened on first use).
  void write(const void* data, std::size_t n);
  void write(const std::string& s) { write(s.data(), s.size()); }

  // fsyncs the temporary, renames it over the final name and fsyncs the folder.
  // Throws UserError (naming the file) when the temporary does not exist or I/O fails.
  void commit();
  bool committed() const { return committed_; }

 private:
  std::string final_, temp_;
  int fd_ = -1;
  bool committed_ = false;
};

// The same for a whole output folder: files are written under temp_path(); commit()
// renames the folder into place (replacing an existing one only when `force`).
class AtomicDir {
 public:
  AtomicDir(std::string final_path, bool force);
  ~AtomicDir();
  AtomicDir(const AtomicDir&) = delete;
  AtomicDir& operator=(const AtomicDir&) = delete;

  const std::string& temp_path() const { return temp_; }
  const std::string& final_path() const { return final_; }
  void commit();

 private:
  std::string final_, temp_;
  bool force_;
  bool committed_ = false;
};

// Writes `content` to `path` atomically (convenience for small text outputs).
void write_file_atomic(const std::string& path, const std::string& content);

// fsync of a file or folder by name; UserError on failure.
void fsync_path(const std::string& path);

}  // namespace epe
