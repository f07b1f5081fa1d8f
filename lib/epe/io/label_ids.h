#pragma once
// The two numbers every label reader and network agrees on, in a header with no dependency
// (the networks' config headers include it without OpenCV).

namespace epe {

constexpr int kUniversalClasses = 194;  // MSeg universal taxonomy: robust label ids 0..193
constexpr int kIgnoreLabel = 255;       // unlabeled (robust labels) / void (GT labels)

}  // namespace epe
