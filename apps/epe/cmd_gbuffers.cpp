#include <cstdio>

#include "command.h"
#include "epe/core/error.h"
#include "epe/core/progress.h"
#include "epe/io/gbuffer_pack.h"

namespace epe::app {

namespace {

int run_pack(const Args& args) {
  PackOptions o;
  CommonOptions c;
  OptionSet s("epe gbuffers pack --list SYN.csv --spec SPEC --out DIR",
              "Stacks each frame's per-buffer files (PNG 8/16-bit, OpenEXR, JPEG, .npz) into one epe G-buffer file\n"
              "(HDF5, named channels) as the spec says, and writes DIR/<list name>.csv with its gbuffers column\n"
              "filled. SPEC is a file or a shipped spec (data/gbuffers/: carla2real, carla2real-npz, carla2real-epe).");
  s.add("list,l", &o.list, "synthetic list; its gbuffers column names each frame's source folder or file").required();
  s.add("spec", &o.spec, "G-buffer spec (INI, one [buffer] section per file)").required();
  s.add("out,o", &o.out, "output folder: gbuffers/NNNNNN_<stem>.h5 and the list").required();
  s.add("resume", &o.resume, "keep frames already packed");
  s.add("force", &o.force, "repack every frame into an existing folder").not_recorded();
  if (!parse_command(s, c, args)) return 0;
  o.threads = c.threads;
  Progress progress("pack", 0, "frames");
  PackResult r = pack_gbuffers(o, &progress);
  progress.finish();
  std::printf("gbuffers pack: %lld frames (%lld packed, %lld kept), %d channels (%s) in %.1f s\nlist: %s\n",
              static_cast<long long>(r.frames), static_cast<long long>(r.packed), static_cast<long long>(r.kept),
              r.channels, join(r.names, ", ").c_str(), r.seconds, r.list_out.c_str());
  return 0;
}

}  // namespace

int run_gbuffers(const Args& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::printf("Usage: epe gbuffers pack --list SYN.csv --spec SPEC --out DIR   (epe gbuffers pack --help)\n");
    return args.empty() ? 1 : 0;
  }
  EPE_CHECK(args[0] == "pack", "unknown gbuffers action '", args[0], "' (known: pack)");
  return run_pack(Args(args.begin() + 1, args.end()));
}

}  // namespace epe::app
