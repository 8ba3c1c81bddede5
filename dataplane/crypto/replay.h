/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inbound anti-replay window, RFC 4303 section 3.4.3, with extended
 * (64-bit) sequence numbers, RFC 4303 Appendix A / RFC 4304.
 *
 * Use is two-phase per packet, as RFC 4303 3.4.3 asks: check() before the
 * integrity check (cheap rejection of replays and too-old packets, and the
 * ESN high half to feed the ICV), update() only after the ICV verified.
 * One writer (the worker that owns the SA's inbound traffic).
 */
#pragma once

#include <cstdint>
#include <memory>

namespace mipvpn {

enum class ReplayVerdict : uint8_t {
  kOk,        /* new and inside or ahead of the window */
  kReplayed,  /* already seen */
  kTooOld,    /* left of the window */
};

class ReplayWindow {
 public:
  static constexpr uint32_t kMinSize = 64;
  static constexpr uint32_t kMaxSize = 4096;

  /* size: 0 disables the check (RFC 4303 3.4.3 allows a receiver to);
   * else rounded up to a power of two in [64, 4096]. */
  ReplayWindow(uint32_t size, bool esn);
  ~ReplayWindow();
  ReplayWindow(const ReplayWindow&) = delete;
  ReplayWindow& operator=(const ReplayWindow&) = delete;

  /* Decide on a packet carrying the low 32 bits seq_lo. *seq_full gets the
   * 64-bit sequence number it stands for (RFC 4303 A2.2: the high half is
   * inferred from the window; without ESN it is seq_lo). */
  ReplayVerdict check(uint32_t seq_lo, uint64_t* seq_full) const noexcept;

  /* Record seq_full as received (after the ICV verified). Re-checks, so a
   * duplicate inside one burst is refused here; returns the verdict. */
  ReplayVerdict update(uint64_t seq_full) noexcept;

  uint64_t top() const noexcept { return top_; }  /* highest seq accepted */
  uint32_t size() const noexcept { return size_; }
  bool esn() const noexcept { return esn_; }
  bool enabled() const noexcept { return size_ != 0; }

 private:
  ReplayVerdict verdict(uint64_t s) const noexcept;
  ReplayVerdict update_slow(uint64_t s) noexcept;

  uint64_t top_ = 0;          /* T: the highest sequence number seen */
  uint32_t size_ = 0;         /* W, power of two */
  uint32_t words_ = 0;        /* bitmap words (W / 64), ring indexed by seq */
  bool esn_ = false;
  std::unique_ptr<uint64_t[]> bits_;
};

/* Inline: both run per packet on the inbound hot path. */
inline ReplayVerdict ReplayWindow::verdict(uint64_t s) const noexcept {
  if (s == 0) return ReplayVerdict::kTooOld; /* never sent (RFC 4303 3.3.3) */
  if (size_ == 0 || s > top_) return ReplayVerdict::kOk;
  if (top_ - s >= size_) return ReplayVerdict::kTooOld;
  const uint64_t w = bits_[(s >> 6) & (words_ - 1)];
  return (w >> (s & 63)) & 1 ? ReplayVerdict::kReplayed : ReplayVerdict::kOk;
}

inline ReplayVerdict ReplayWindow::check(uint32_t seq_lo, uint64_t* seq_full) const noexcept {
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

/* The usual case inline: a packet ahead of the window whose bit lies in
 * the word of the current top (in-order traffic, 63 times out of 64). */
inline ReplayVerdict ReplayWindow::update(uint64_t s) noexcept {
  if (s > top_ && size_ != 0 && (s >> 6) == (top_ >> 6)) {
    top_ = s;
    bits_[(s >> 6) & (words_ - 1)] |= uint64_t{1} << (s & 63);
    return ReplayVerdict::kOk;
  }
  return update_slow(s);
}

}  // namespace mipvpn
