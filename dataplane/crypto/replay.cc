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

ReplayVerdict ReplayWindow::verdict(uint64_t s) const noexcept {
  if (s == 0) return ReplayVerdict::kTooOld; /* never sent (RFC 4303 3.3.3) */
  if (size_ == 0 || s > top_) return ReplayVerdict::kOk;
  if (top_ - s >= size_) return ReplayVerdict::kTooOld;
  const uint64_t w = bits_[(s >> 6) & (words_ - 1)];
  return (w >> (s & 63)) & 1 ? ReplayVerdict::kReplayed : ReplayVerdict::kOk;
}

ReplayVerdict ReplayWindow::check(uint32_t seq_lo, uint64_t* seq_full) const noexcept {
  uint64_t s = seq_lo;
  if (esn_) {
    /* RFC 4303 Appendix A2.2: infer the high half from the window. W here
     * is the window size, or 2^31 (half the space) when the check is off. */
    const uint64_t w = size_ ? size_ : (uint64_t{1} << 31);
    const uint32_t tl = static_cast<uint32_t>(top_);
    const uint32_t th = static_cast<uint32_t>(top_ >> 32);
    const uint32_t bottom = static_cast<uint32_t>(tl - w + 1); /* mod 2^32 */
    uint32_t sh;
    if (tl >= w - 1) {          /* case A: window within one subspace */
      sh = seq_lo >= bottom ? th : th + 1;
    } else {                    /* case B: window spans two subspaces */
      sh = seq_lo >= bottom ? (th ? th - 1 : 0) : th;
    }
    s = (uint64_t{sh} << 32) | seq_lo;
  }
  *seq_full = s;
  return verdict(s);
}

ReplayVerdict ReplayWindow::update(uint64_t s) noexcept {
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
