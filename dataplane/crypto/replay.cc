/* SPDX-License-Identifier: BSD-3-Clause */
#include "crypto/replay.h"

#include <bit>

namespace mipvpn {

ReplayWindow::ReplayWindow(uint32_t size, bool esn) : esn_(esn) {
  if (size == 0) return;
  if (size < kMinSize) size = kMinSize;
  if (size > kMaxSize) size = kMaxSize;
  size_ = std::bit_ceil(size);
  /* One spare word so a window that does not start on a word boundary
   * still fits in the ring (as DPDK's rsn buckets do). */
  words_ = std::bit_ceil(size_ / 64 + 1);
  bits_ = std::make_unique<uint64_t[]>(words_);
}

ReplayWindow::~ReplayWindow() = default;

ReplayVerdict ReplayWindow::update_slow(uint64_t s) noexcept {
  const ReplayVerdict v = verdict(s);
  if (v != ReplayVerdict::kOk) return v;
  if (size_ == 0) {
    if (s > top_) top_ = s;
    return v;
  }
  if (s > top_) {
    /* Slide: clear the words that the window moves onto. */
    const uint64_t old_w = top_ >> 6, new_w = s >> 6;
    const uint64_t diff = new_w - old_w;
    if (diff >= words_) {
      for (uint32_t i = 0; i < words_; ++i) bits_[i] = 0;
    } else {
      for (uint64_t i = 1; i <= diff; ++i) bits_[(old_w + i) & (words_ - 1)] = 0;
    }
    top_ = s;
  }
  bits_[(s >> 6) & (words_ - 1)] |= uint64_t{1} << (s & 63);
  return v;
}

}  // namespace mipvpn
