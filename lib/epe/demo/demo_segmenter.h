#pragma once
// The demo's segmentation model. It lives with the demo data, not in `segment`, so that no
// production module depends on the demo: `segment` runs any TorchScript model; this file makes one.

#include <string>

#include "epe/segment/segment.h"

namespace epe {

// `epe demo-segmenter`: a TorchScript model (a 1x1 convolution built in C++) that labels the
// demo data by colour: logits_c = -|x - mu_c|^2 with mu_c the mean colour of universal class c
// in rendered demo frames (classes absent from the demo get -1e4). A demo model, not MSeg.
struct DemoSegmenterResult {
  int classes_seen = 0;
};
DemoSegmenterResult make_demo_segmenter(const std::string& out, const SegmentProtocol& protocol, bool force);

}  // namespace epe
