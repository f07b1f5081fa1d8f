#pragma once
// `epe fake-gbuffers`: stand-in G-buffers for synthetic datasets that have none, made the way the
// reference's demo makes them — VGG-16 relu2_2 features averaged over groups of channels and
// upsampled to the frame. Clearly labelled: every channel is named "fake-vgg-relu2_2.<k>" and the
// provenance says which VGG-16 weights made them.

#include <cstdint>
#include <string>

namespace epe {

class Progress;

struct FakeGBufferOptions {
  std::string list;   // synthetic list (the G-buffer column may be empty)
  std::string out;    // folder: gbuffers/NNNNNN.h5 and <name>.csv
  std::string name;   // default: <list stem>-fake-gbuffers
  std::string vgg;    // VGG-16 weights; empty = random init (warned)
  int channels = 32;  // a divisor of 128
  std::string device = "cpu";
  bool force = false;
};

struct FakeGBufferResult {
  std::int64_t frames = 0;
  std::string list, provenance;
  double seconds = 0;
};

FakeGBufferResult make_fake_gbuffers(const FakeGBufferOptions& o, Progress* progress = nullptr);

}  // namespace epe
