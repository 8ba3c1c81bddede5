/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-source policing of punted packets: the control-plane protection a
 * router gives its slow path (RFC 6192 sec. 3 "rate limit ... traffic
 * destined to the router"). Each worker keeps one policer; a packet the
 * stages punt (a registration to an agent's address, IKE) passes only
 * while its source address is within `rate_per_s` with bursts up to
 * `burst`, so one flooding source cannot fill the ring to the control
 * thread and starve the registrations of every other mobile node.
 *
 * GCRA (the virtual-scheduling form of a token bucket): one theoretical
 * arrival time per bucket, in TSC cycles. Sources share a bucket when
 * their keyed hashes collide; the key is random per process, so a flooder
 * cannot choose a victim's bucket. A flood from spoofed random sources is
 * not stopped here (each source stays under its rate): the ring's own
 * limit and its punt_ring_full counter are the last line there.
 *
 * The rate is per worker: where RSS or the software spread sends one
 * source's punts to several workers (different UDP ports), it may reach
 * workers x rate_per_s in all.
 *
 * No DPDK; the table is allocated at setup, never on the worker (32 KiB
 * at the default size, on the setup thread's node: small enough to stay
 * in the worker's cache, and only punts touch it).
 */
#pragma once

#include <cstdint>
#include <vector>

#include "codec/hash.h"

namespace mipvpn {

struct PuntPoliceConfig {
  uint32_t rate_per_s = 100;  /* per source; 0 turns policing off */
  uint32_t burst = 50;        /* back-to-back punts allowed from one source */
  uint32_t buckets = 4096;    /* power of two */
  uint32_t hash_key = 0;      /* 0: random per process (tests fix it) */
};

class PuntPolicer {
 public:
  /* hz: cycles per second of the clock given to admit(). */
  void init(const PuntPoliceConfig& c, uint64_t hz, uint32_t key) {
    on_ = c.rate_per_s != 0 && c.burst != 0 && hz != 0;
    if (!on_) return;
    uint32_t n = 1;
    while (n < c.buckets) n <<= 1;
    mask_ = n - 1;
    key_ = c.hash_key ? c.hash_key : key;
    interval_ = hz / c.rate_per_s;
    if (interval_ == 0) interval_ = 1;
    tolerance_ = interval_ * (c.burst - 1);
    tat_.assign(n, 0);
  }

  /* True: the punt may go; false: over the source's rate (count it). */
  bool admit(uint32_t src, uint64_t now) noexcept {
    if (!on_) return true;
    uint64_t& tat = tat_[fmix32(src ^ key_) & mask_];
    const uint64_t t = tat > now ? tat : now;
    if (t - now > tolerance_) return false;
    tat = t + interval_;
    return true;
  }
  bool enabled() const noexcept { return on_; }

 private:
  bool on_ = false;
  uint32_t mask_ = 0;
  uint32_t key_ = 0;
  uint64_t interval_ = 0;
  uint64_t tolerance_ = 0;
  std::vector<uint64_t> tat_;
};

}  // namespace mipvpn
