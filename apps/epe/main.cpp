// epe — the EPE toolkit's command-line front end: `epe <command> [options]`.

#include <H5Cpp.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>

#include "command.h"
#include "epe/core/error.h"
#include "epe/runtime/runtime.h"

namespace {

void print_usage(std::FILE* out) {
  std::fprintf(out, "EPE toolkit %s — photorealism-enhancement research tools\n\n", epe::kVersion);
  std::fprintf(out, "Usage: epe <command> [options]     (epe <command> --help for its options)\n\nCommands:\n");
  for (const auto& c : epe::app::commands()) std::fprintf(out, "  %-14s %s\n", c.name, c.summary);
  std::fprintf(out, "\nOther:\n  %-14s %s\n  %-14s %s\n", "--help", "this list", "--version",
               "versions of epe and its libraries, BLAS, threads, CUDA");
}

}  // namespace

int main(int argc, char** argv) {
  epe::app::set_command_line(argc, argv);
  if (argc < 2) {
    print_usage(stderr);
    return 1;
  }
  const std::string cmd = argv[1];
  try {
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      print_usage(stdout);
      return 0;
    }
    if (cmd == "--version" || cmd == "version") {
      epe::set_threads(0);
      std::fputs(epe::version_report().c_str(), stdout);
      return 0;
    }
    for (const auto& c : epe::app::commands()) {
      if (cmd != c.name) continue;
      epe::set_threads(0);  // all cores unless the command's --threads says otherwise
      return c.run(epe::app::Args(argv + 2, argv + argc));
    }
    std::fprintf(stderr, "error: unknown command '%s' (epe --help lists the commands)\n", cmd.c_str());
    return 1;
  } catch (const epe::UserError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const epe::InternalError& e) {
    std::fprintf(stderr, "%s\nThis is a bug in epe; please report it with the command line.\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "internal error: %s\nThis is a bug in epe; please report it with the command line.\n",
                 e.what());
    return 2;
  } catch (const H5::Exception& e) {
    std::fprintf(stderr, "internal error: HDF5: %s\nThis is a bug in epe; please report it with the command line.\n",
                 e.getDetailMsg().c_str());
    return 2;
  } catch (...) {
    std::fprintf(stderr, "internal error: unknown exception\nThis is a bug in epe; please report it.\n");
    return 2;
  }
}
