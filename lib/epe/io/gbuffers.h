#pragma once
// G-buffer files (docs/DESIGN.md §3), one per synthetic frame:
//   ours: HDF5, root attributes epe_format = "gbuffers", epe_format_version = 1;
//         dataset /gbuffers, H×W×C float16 or float32, with attribute `channels`
//         (one name per channel, e.g. depth, normal.x, normal.y, normal.z, albedo.r, ...).
//   reference: .npz with key `data`, H×W×C float16/float32 (channels unnamed: c0, c1, ...).

#include <string>
#include <vector>

namespace epe {

struct GBuffers {
  int height = 0, width = 0, channels = 0;
  std::vector<float> data;         // H×W×C, row-major
  std::vector<std::string> names;  // one per channel
  std::string format;              // "epe-hdf5" or "reference-npz"

  float at(int r, int c, int ch) const { return data[(static_cast<std::size_t>(r) * width + c) * channels + ch]; }
};

struct GBufferHeader {
  int height = 0, width = 0, channels = 0;
  std::vector<std::string> names;
  std::string format;
};

// Reads by extension (.h5/.hdf5 → ours, .npz → reference). UserError naming the file
// when it is missing, of a foreign kind, truncated, or not H×W×C.
GBuffers read_gbuffers(const std::string& path);
// Shape and channel names without reading the pixel data (for fast checks).
GBufferHeader probe_gbuffers(const std::string& path);
// Writes our HDF5 format atomically (float16, compressed, no timestamps: byte-identical
// for identical content).
void write_gbuffers(const std::string& path, const GBuffers& g);

}  // namespace epe
