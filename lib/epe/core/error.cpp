#include "epe/core/error.h"

namespace epe {

std::string at_line(const std::string& path, long line, const std::string& msg) {
  return cat(path, ":", line, ": ", msg);
}

void throw_internal(const char* file, int line, const char* cond, const std::string& msg) {
  throw InternalError(
      cat("internal error at ", file, ":", line, ": check `", cond, "` failed", msg.empty() ? "" : ": ", msg));
}

}  // namespace epe
