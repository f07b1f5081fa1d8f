#pragma once
// `epe fake-gbuffers`: stand-in G-buffers for synthetic datasets that have none, made the way the
// reference's demo makes them (dataset/generate_fake_gbuffers.py) — VGG-16 relu2_2 features
// averaged over groups of consecutive channels and upsampled to the frame. Two protocols:
//   reference  (default) as that script: VGG-16 without padding (valid convolutions), the input
//              normalised by the dataset's statistics — the mean over up to 1000 frames (a seeded
//              random subset) of each frame's per-channel mean and (unbiased) std — and bicubic
//              upsampling (align_corners false)
//   epe        the first wave's: zero padding, ImageNet statistics, bilinear upsampling
// Clearly labelled: every channel is named "fake-vgg-relu2_2.<k>" and the provenance says which
// VGG-16 weights, protocol and statistics made them.

#include <cstdint>
#include <string>

#include "epe/core/options.h"
#include "epe/core/shard.h"

namespace epe {

class Progress;

// reference: no padding, the dataset's own statistics, bicubic (the reference's script);
// epe: zero padding, ImageNet statistics, bilinear.
enum class FakeGBufferProtocol { reference, epe };
const Choices<FakeGBufferProtocol>& fake_gbuffer_protocols();  // "reference", "epe"

struct FakeGBufferOptions {
  std::string list;                                               // synthetic list (the G-buffer column may be empty)
  std::string out;                                                // folder: gbuffers/NNNNNN.h5 and <name>.csv
  std::string name;                                               // default: <list stem>-fake-gbuffers
  std::string vgg;                                                // VGG-16 weights; empty = random init (warned)
  int channels = 32;                                              // a divisor of 128
  FakeGBufferProtocol protocol = FakeGBufferProtocol::reference;  // reference | epe
  int stats_frames = 1000;  // reference: frames the dataset statistics are taken over
  std::uint64_t seed = 0;   // reference: which frames (when the list has more)
  std::string device = "cpu";
  Shard shard;  // --shard: only these list rows, into a shard folder (io/folder_shards.h); the
                // reference statistics still come from the whole list
  bool force = false;
};

struct FakeGBufferResult {
  std::int64_t frames = 0;
  std::string list, provenance;
  double seconds = 0;
  bool already_complete = false;  // a shard folder finished by an earlier run: nothing done
  std::int64_t row_begin = 0, row_end = 0;
};

FakeGBufferResult make_fake_gbuffers(const FakeGBufferOptions& o, Progress* progress = nullptr);
// Binds every option of `epe fake-gbuffers` to `o`; the lines it prints when done.
void add_options(OptionSet& s, FakeGBufferOptions& o);
std::string format_summary(const FakeGBufferOptions& o, const FakeGBufferResult& r);

}  // namespace epe
