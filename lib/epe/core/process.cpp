#include "epe/core/process.h"

#include <sys/resource.h>

#include "epe/core/version.h"

namespace epe {

const char* const kVersion = EPE_VERSION_STRING;

std::int64_t peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<std::int64_t>(u.ru_maxrss) * 1024;  // ru_maxrss is in KiB on Linux
}

}  // namespace epe
