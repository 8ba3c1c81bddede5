/* SPDX-License-Identifier: BSD-3-Clause */
/* The per-source punt policer (runtime/punt_police.h): GCRA per bucket. */
#include <gtest/gtest.h>

#include "runtime/punt_police.h"

namespace mipvpn {
namespace {

constexpr uint64_t kHz = 1'000'000;  /* one tick per microsecond */

PuntPolicer make(uint32_t rate, uint32_t burst) {
  PuntPolicer p;
  p.init({.rate_per_s = rate, .burst = burst, .buckets = 4096}, kHz, 0x1234567);
  return p;
}

TEST(PuntPolice, BurstThenRate) {
  PuntPolicer p = make(100, 5);  /* one per 10 ms, 5 back to back */
  const uint32_t a = 0x0a000001;
  uint64_t t = 1'000'000;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(p.admit(a, t)) << i;
  EXPECT_FALSE(p.admit(a, t));
  EXPECT_FALSE(p.admit(a, t + 9'999));
  EXPECT_TRUE(p.admit(a, t + 10'000));   /* one interval later: one more */
  EXPECT_FALSE(p.admit(a, t + 10'000));
  /* Idle for a second: the whole burst again, no more. */
  t += 2'000'000;
  int n = 0;
  for (int i = 0; i < 20; ++i) n += p.admit(a, t);
  EXPECT_EQ(n, 5);
}

TEST(PuntPolice, SustainedRateHeld) {
  PuntPolicer p = make(1000, 10);
  const uint32_t a = 0xc0000201;
  /* 10x the rate for one second: burst + rate x 1 s pass. */
  int n = 0;
  for (uint64_t t = 0; t < kHz; t += 100) n += p.admit(a, 5 * kHz + t);
  EXPECT_GE(n, 1000);
  EXPECT_LE(n, 1000 + 10 + 1);
}

TEST(PuntPolice, OneFloodingSourceLeavesOthersAlone) {
  PuntPolicer p = make(100, 5);
  const uint64_t t = 3 * kHz;
  for (int i = 0; i < 100000; ++i) p.admit(0x0a0000ff, t + static_cast<uint64_t>(i));
  /* 1000 other sources, each still gets its burst (a collision with the
   * flooder's bucket may cost one of them its share). */
  int starved = 0;
  for (uint32_t s = 1; s <= 1000; ++s)
    if (!p.admit(0x0b000000 + s, t + 100'000)) ++starved;
  EXPECT_LE(starved, 2);
}

TEST(PuntPolice, OffPassesEverything) {
  PuntPolicer p = make(0, 5);
  EXPECT_FALSE(p.enabled());
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(p.admit(1, 0));
  PuntPolicer q;  /* never initialised */
  EXPECT_TRUE(q.admit(1, 0));
}

TEST(PuntPolice, ClockNeverGoesNegative) {
  PuntPolicer p = make(10, 1);
  EXPECT_TRUE(p.admit(7, 0));
  EXPECT_FALSE(p.admit(7, 0));
  EXPECT_TRUE(p.admit(7, kHz / 10));
  /* A huge rate with a slow clock: the interval never reaches zero. */
  PuntPolicer q;
  q.init({.rate_per_s = 10'000'000, .burst = 1, .buckets = 16}, 1000, 1);
  EXPECT_TRUE(q.admit(7, 5));
  EXPECT_FALSE(q.admit(7, 5));
  EXPECT_TRUE(q.admit(7, 6));
}

}  // namespace
}  // namespace mipvpn
