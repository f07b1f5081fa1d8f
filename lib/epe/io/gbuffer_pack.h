#pragma once
// `epe gbuffers pack`: engines dump G-buffers as one file per buffer per frame (CARLA2Real:
// GBuffers/GBuffer-<id>/SceneDepth-<id>.png, ...; others OpenEXR); the enhancer wants one
// H×W×C array per frame with named channels. A spec (INI, data/gbuffers/*.ini) says, per buffer,
// where its file is, which of its channels to keep, how to scale them and what to call them;
// pack reads every frame's buffers, checks their sizes against the image, and writes one epe
// G-buffer HDF5 per frame (atomically) plus the synthetic list with its gbuffers column filled.
//
// Spec format (one section per buffer, in channel order; `#` or `;` comments):
//   description = CARLA2Real capture ...      (optional, before the first section)
//   [SceneDepth]
//   file     = {gbuffers}/SceneDepth-{id}.png  template, see below (required)
//   key      = arr_0                           .npz member (default: `data`, or the only one)
//   take     = r                               source channels: r,g,b,a or 0-based indices (default: all)
//   channels = depth                           output names, one per taken channel (required)
//   decode   = linear                          linear | carla-depth ((R + 256 G + 65536 B) / (2^24 − 1))
//   scale    = 0.00392156862745098             value = decoded × scale + offset
//   offset   = 0
// Template fields: {gbuffers} (the row's gbuffers column: a folder or a file), {gbuffers_stem},
// {id} (the digits after the last '-' of {gbuffers_stem}, as written), {image_dir},
// {image_stem}. Relative results are taken against the list's folder.
// Sources: PNG (8/16-bit, 1/3/4 channels, read as R,G,B,A), OpenEXR (half/float, through
// OpenCV), JPEG, and .npz (uint8/16, float16/32/64 arrays, H×W or H×W×C).

#include <cstdint>
#include <string>
#include <vector>

namespace epe {

class Progress;

// One buffer of a spec.
struct GBufferSource {
  std::string name;                   // the section name
  std::string file;                   // path template
  std::string key;                    // .npz member ("" = data / the only one)
  std::vector<int> take;              // source channels (empty = all)
  std::vector<std::string> channels;  // output channel names
  std::string decode = "linear";      // linear | carla-depth
  double scale = 1.0, offset = 0.0;
  long line = 0;  // the section's line in the spec
};

struct GBufferSpec {
  std::string path, description;
  std::vector<GBufferSource> buffers;
  int channels() const;  // total output channels
  // Reads a spec file or a shipped spec's name (<data>/gbuffers/<name>.ini). UserError naming
  // the file and line on an unknown key, a bad value, a missing `file`/`channels`, or `take`
  // and `channels` of different lengths.
  static GBufferSpec read(const std::string& path_or_name);
};

struct PackOptions {
  std::string list;     // synthetic list whose gbuffers column names each frame's source (or empty)
  std::string spec;     // spec file or shipped name
  std::string out;      // output folder: gbuffers/NNNNNN_<stem>.h5 and <list name>.csv
  bool resume = false;  // keep frames already packed
  bool force = false;   // replace an existing output folder's content
  int threads = 0;
  void check() const;
};

struct PackResult {
  std::int64_t frames = 0, packed = 0, kept = 0;  // kept: already there (--resume)
  int channels = 0;
  std::vector<std::string> names;
  std::string list_out;
  double seconds = 0;
};

// UserError naming the list line, the buffer and the file on a missing or unreadable source,
// a size other than the image's, too few source channels, or a non-finite value.
PackResult pack_gbuffers(const PackOptions& o, Progress* progress = nullptr);

}  // namespace epe
