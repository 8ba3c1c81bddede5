/* SPDX-License-Identifier: BSD-3-Clause */
/* Anti-replay window: RFC 4303 3.4.3 and ESN inference, RFC 4303 A2.2. */
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include "crypto/replay.h"

namespace mipvpn {
namespace {

ReplayVerdict recv(ReplayWindow& w, uint32_t lo, uint64_t* full = nullptr) {
  uint64_t f = 0;
  auto v = w.check(lo, &f);
  if (full) *full = f;
  if (v != ReplayVerdict::kOk) return v;
  return w.update(f);
}

TEST(Replay, InOrderThenDuplicate) {
  ReplayWindow w(64, false);
  for (uint32_t s = 1; s <= 1000; ++s) ASSERT_EQ(recv(w, s), ReplayVerdict::kOk) << s;
  EXPECT_EQ(recv(w, 1000), ReplayVerdict::kReplayed);
  EXPECT_EQ(recv(w, 999), ReplayVerdict::kReplayed);
  EXPECT_EQ(recv(w, 1000 - 64), ReplayVerdict::kTooOld);
  EXPECT_EQ(w.top(), 1000u);
}

TEST(Replay, SequenceZeroIsNeverValid) {
  ReplayWindow w(64, false);
  EXPECT_EQ(recv(w, 0), ReplayVerdict::kTooOld);
}

TEST(Replay, WindowEdgeExactly) {
  for (uint32_t size : {64u, 128u, 1024u, 4096u}) {
    ReplayWindow w(size, false);
    ASSERT_EQ(recv(w, 10000), ReplayVerdict::kOk);
    EXPECT_EQ(recv(w, 10000 - size + 1), ReplayVerdict::kOk) << size;  /* last slot */
    EXPECT_EQ(recv(w, 10000 - size), ReplayVerdict::kTooOld) << size;  /* just out */
  }
}

TEST(Replay, SizesRoundUpAndClamp) {
  EXPECT_EQ(ReplayWindow(1, false).size(), 64u);
  EXPECT_EQ(ReplayWindow(100, false).size(), 128u);
  EXPECT_EQ(ReplayWindow(5000, false).size(), 4096u);
  EXPECT_FALSE(ReplayWindow(0, false).enabled());
}

TEST(Replay, DisabledAcceptsDuplicates) {
  ReplayWindow w(0, false);
  EXPECT_EQ(recv(w, 5), ReplayVerdict::kOk);
  EXPECT_EQ(recv(w, 5), ReplayVerdict::kOk);
}

TEST(Replay, CheckDoesNotRecord) {
  /* Phase one (before the ICV) must not move the window: a forged packet
   * with a huge sequence number must not shift out good ones. */
  ReplayWindow w(64, false);
  ASSERT_EQ(recv(w, 100), ReplayVerdict::kOk);
  uint64_t f;
  EXPECT_EQ(w.check(1u << 30, &f), ReplayVerdict::kOk);
  EXPECT_EQ(w.top(), 100u);
  EXPECT_EQ(recv(w, 90), ReplayVerdict::kOk);
}

TEST(Replay, DuplicateWithinOneBurstCaughtByUpdate) {
  ReplayWindow w(64, false);
  uint64_t a, b;
  ASSERT_EQ(w.check(7, &a), ReplayVerdict::kOk);
  ASSERT_EQ(w.check(7, &b), ReplayVerdict::kOk);
  EXPECT_EQ(w.update(a), ReplayVerdict::kOk);
  EXPECT_EQ(w.update(b), ReplayVerdict::kReplayed);
}

/* Table-driven: random reordering within the window is all accepted once,
 * across window sizes and big jumps; duplicates are all refused. */
TEST(Replay, ReorderingWithinWindowAcrossSizes) {
  std::mt19937 rng(4303);
  for (uint32_t size : {64u, 256u, 4096u}) {
    for (bool esn : {false, true}) {
      ReplayWindow w(size, esn);
      uint64_t base = esn ? (uint64_t{1} << 32) - 3 * size : 1;
      /* Jump the window to just below base (ahead of the window is fine). */
      if (esn) {
        ASSERT_EQ(recv(w, static_cast<uint32_t>(base - 1)), ReplayVerdict::kOk);
      }
      std::vector<uint64_t> seqs;
      for (uint64_t s = base; s < base + 8 * size; ++s) seqs.push_back(s);
      /* Shuffle in chunks of half a window: displacement stays < size. */
      for (size_t i = 0; i < seqs.size(); i += size / 2)
        std::shuffle(seqs.begin() + i, seqs.begin() + std::min(seqs.size(), i + size / 2), rng);
      std::set<uint64_t> seen;
      for (uint64_t s : seqs) {
        uint64_t full;
        ASSERT_EQ(recv(w, static_cast<uint32_t>(s), &full), ReplayVerdict::kOk) << size << ' ' << esn << ' ' << s;
        ASSERT_EQ(full, esn ? s : static_cast<uint32_t>(s));
        seen.insert(s);
      }
      /* Replays are refused. With ESN only inside the window: a packet
       * older than that is inferred as the next subspace (A2.2) and it is
       * the ICV, which covers the high half, that refuses it. */
      for (int i = 0; i < 100; ++i) {
        uint64_t s = esn ? w.top() - rng() % size : seqs[rng() % seqs.size()];
        EXPECT_NE(recv(w, static_cast<uint32_t>(s)), ReplayVerdict::kOk) << s;
      }
    }
  }
}

TEST(ReplayEsn, HighHalfAcrossWrap) {
  /* RFC 4303 A2.2 case A: window inside one subspace; a low seq below the
   * window means the next subspace. */
  ReplayWindow w(64, true);
  uint64_t f;
  ASSERT_EQ(recv(w, 0xfffffff0u, &f), ReplayVerdict::kOk);
  EXPECT_EQ(f, 0xfffffff0u);
  ASSERT_EQ(recv(w, 5, &f), ReplayVerdict::kOk);
  EXPECT_EQ(f, (uint64_t{1} << 32) | 5);
  /* Case B: window spans the boundary; a seq just below 2^32 is the old
   * subspace and still inside the window. */
  ASSERT_EQ(recv(w, 0xfffffff8u, &f), ReplayVerdict::kOk);
  EXPECT_EQ(f, 0xfffffff8u);
  EXPECT_EQ(recv(w, 0xfffffff0u, &f), ReplayVerdict::kReplayed);
  /* Below the window in case B: A2.2 takes it for the current subspace,
   * i.e. far ahead; only the ICV (which covers the high half) can refuse
   * it, so check() says ok and infers high = 1. */
  EXPECT_EQ(w.check(0xffffff00u, &f), ReplayVerdict::kOk);
  EXPECT_EQ(f, (uint64_t{1} << 32) | 0xffffff00u);
  EXPECT_EQ(w.top(), (uint64_t{1} << 32) | 5);
}

TEST(ReplayEsn, NoWrapWithoutEsn) {
  ReplayWindow w(64, false);
  uint64_t f;
  ASSERT_EQ(recv(w, 0xfffffff0u, &f), ReplayVerdict::kOk);
  EXPECT_EQ(recv(w, 5, &f), ReplayVerdict::kTooOld);
  EXPECT_EQ(f, 5u);
}

}  // namespace
}  // namespace mipvpn
