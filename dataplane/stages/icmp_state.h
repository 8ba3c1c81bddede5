/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the ICMP helpers of the stages (stages/icmp.h) keep per pipeline:
 * the clock, the token bucket that limits ICMP errors (RFC 1812 4.3.2.8)
 * and, per packet of the burst, a snapshot of a user datagram's head taken
 * before its first encapsulation, so that "fragmentation needed" can
 * still quote it once it has been encrypted (RFC 2003 5.1). No DPDK here:
 * the runtime hands in its TSC as an IcmpClock, tests hand in their own.
 */
#pragma once

#include <cstddef>
#include <cstdint>

#include "codec/ipv4.h"

namespace mipvpn {

/* A cheap monotonic clock: now(arg) in ticks of hz per second. Read at
 * most once per burst, and only when an ICMP error is about to be sent. */
struct IcmpClock {
  uint64_t (*now)(const void* arg) noexcept = nullptr;
  const void* arg = nullptr;
  uint64_t hz = 0;
};

/* steady_clock in nanoseconds: the default until the runtime sets its TSC. */
IcmpClock icmp_default_clock() noexcept;

/*
 * Token bucket (RFC 1812 4.3.2.8): `rate` tokens per second, at most
 * `burst` saved up; one token per ICMP error. Starts full. Tokens are kept
 * scaled by hz so that integer arithmetic loses nothing. rate 0: no
 * errors at all. One pipeline (one worker) uses it: no atomics.
 */
class IcmpRateLimit {
 public:
  bool take(uint64_t now, uint64_t hz, uint32_t rate, uint32_t burst) noexcept {
    if (rate == 0 || burst == 0 || hz == 0) return false;
    const uint64_t cap = uint64_t{burst} * hz;
    if (!primed_) {
      primed_ = true;
      tokens_ = cap;
    } else if (now > last_) {
      /* Past a minute nothing more can be owed than a full bucket
       * (burst <= kIcmpMaxBurst, rate <= kIcmpMaxRate); the bound keeps
       * delta * rate inside 64 bits. */
      const uint64_t delta = now - last_;
      tokens_ = delta >= 64 * hz ? cap : tokens_ + delta * rate;
      if (tokens_ > cap) tokens_ = cap;
    }
    last_ = now > last_ ? now : last_;
    if (tokens_ < hz) return false;
    tokens_ -= hz;
    return true;
  }

 private:
  uint64_t tokens_ = 0;
  uint64_t last_ = 0;
  bool primed_ = false;
};

inline constexpr uint32_t kIcmpMaxRate = 1000000;   /* errors per second */
inline constexpr uint32_t kIcmpMaxBurst = 1000000;

/* The head of a user datagram before its first encapsulation in this
 * process() call (taken only when DF is set: only then can it need a
 * "fragmentation needed"), and what ESP outbound did to its length. */
struct IcmpQuote {
  static constexpr uint16_t kMax = 60 + 8;  /* the longest header + 8 bytes (RFC 792) */
  uint16_t len = 0;        /* bytes in head */
  uint16_t user_len = 0;   /* total length of the user datagram */
  uint16_t esp_in = 0;     /* length entering the first ESP outbound */
  uint16_t esp_out = 0;    /* and leaving it */
  uint8_t esp_align = 0;   /* its payload alignment */
  uint8_t esp_n = 0;       /* ESP outbound passes */
  std::byte head[kMax];
};

/* Per call: what the ICMP helpers need besides the tables. */
struct IcmpCtx {
  uint16_t in_port = 0;
  IcmpRateLimit* rl = nullptr;
  IcmpClock clock;
  IcmpQuote* quote = nullptr;  /* [kMaxBurst], by burst index */
  uint64_t now = 0;
  bool have_now = false;

  uint64_t time() noexcept {
    if (!have_now) {
      now = clock.now ? clock.now(clock.arg) : 0;
      have_now = true;
    }
    return now;
  }
};

}  // namespace mipvpn
