#pragma once
// `epe info`: describes any store, G-buffer file or reference .npz — its kind, format
// version, provenance attributes, and every dataset's shape and type.

#include <string>

namespace epe {

// Multi-line description. UserError naming the file when it is missing, truncated or of
// an unknown kind.
std::string describe_file(const std::string& path);

}  // namespace epe
