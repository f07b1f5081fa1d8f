#pragma once
// Helpers shared by the test suites.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "epe/core/error.h"

namespace epe::test {

// A fresh temporary folder, removed with its content on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Cuts a file to `keep` bytes.
inline void truncate_file(const std::string& path, std::size_t keep) {
  std::string s = read_text(path);
  write_text(path, s.substr(0, keep));
}

// Runs `f`, which must throw epe::UserError, and returns the message ("" and a test
// failure when nothing or something else is thrown).
template <class F>
std::string user_error_message(F&& f) {
  try {
    f();
  } catch (const epe::UserError& e) {
    return e.what();
  } catch (...) {
    ADD_FAILURE() << "expected a UserError, another exception was thrown";
    return "";
  }
  ADD_FAILURE() << "expected a UserError, nothing was thrown";
  return "";
}

// Runs a shell command; returns its exit status and captures stdout+stderr.
int run_command(const std::string& cmd, std::string* output = nullptr);
// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's choice), for rendezvous tests.
int free_tcp_port();

#ifdef EPE_BINARY
// Runs the epe binary under test with `args`.
inline int run_epe(const std::string& args, std::string* output = nullptr) {
  return run_command(std::string(EPE_BINARY) + " " + args, output);
}
#endif

inline bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// The number after `"key": ` in the JSON text following the first `"section":` (NaN and a test
// failure when either is missing).
double json_number(const std::string& json, const std::string& section, const std::string& key);

}  // namespace epe::test
