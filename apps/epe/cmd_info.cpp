#include <cstdio>

#include "command.h"
#include "epe/io/inspect.h"

namespace epe::app {

int run_info(const Args& args) {
  std::vector<std::string> files;
  CommonOptions c;
  OptionSet s("epe info FILE [FILE ...]",
              "Describes stores (crops, match, layout, ...), G-buffer files and .npz archives: kind, format\n"
              "version, provenance attributes, and every dataset's shape and type.");
  s.add("file", &files, "file to describe").required().positional(-1);
  if (!parse_command(s, c, args)) return 0;
  for (std::size_t i = 0; i < files.size(); ++i) std::printf("%s%s", i ? "\n" : "", describe_file(files[i]).c_str());
  return 0;
}

}  // namespace epe::app
