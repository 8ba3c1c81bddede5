/* SPDX-License-Identifier: BSD-3-Clause */
/* Replay protection of registrations, RFC 5944 5.7: timestamps and nonces. */
#include <gtest/gtest.h>

#include "mip/replay.h"

using namespace mipvpn;

namespace {

constexpr uint64_t kSec = 1ULL << 32;  /* one second in NTP 32.32 */
/* 2024-01-01T00:00:00Z, with a fraction. */
constexpr uint64_t kNow = mip_ntp_from_unix(1704067200, 0x80000000u);

}  // namespace

TEST(MipReplay, NtpConversion) {
  static_assert(mip_ntp_from_unix(0) == (2208988800ULL << 32));
  EXPECT_EQ(kNow >> 32, 1704067200ULL + 2208988800ULL);
  EXPECT_EQ(static_cast<uint32_t>(kNow), 0x80000000u);
}

/* 5.7.1: within the tolerance on either side, inclusive; outside fails. */
TEST(MipReplay, TimestampTolerance) {
  const MipReplayState st;
  struct {
    int64_t delta;  /* request minus now, NTP units */
    bool ok;
  } cases[] = {
      {0, true},
      {7 * static_cast<int64_t>(kSec), true},
      {-7 * static_cast<int64_t>(kSec), true},
      {7 * static_cast<int64_t>(kSec) + 1, false},   /* just ahead of the window */
      {-7 * static_cast<int64_t>(kSec) - 1, false},  /* just behind it */
      {3 * static_cast<int64_t>(kSec) + 12345, true},
      {-100 * static_cast<int64_t>(kSec), false},
      {100 * static_cast<int64_t>(kSec), false},
      {INT64_MIN, false},
  };
  for (const auto& c : cases) {
    const uint64_t id = kNow + static_cast<uint64_t>(c.delta);
    const auto r = mip_replay_check_timestamp(st, id, kNow, 7);
    EXPECT_EQ(r.ok(), c.ok) << c.delta;
    if (c.ok) {
      EXPECT_EQ(r.reply_id, id);  /* copied whole */
      EXPECT_EQ(r.code, MipReplyCode::kAccepted);
    } else {
      EXPECT_EQ(r.verdict, MipReplayVerdict::kOutsideTolerance);
      EXPECT_EQ(r.code, MipReplyCode::kHaIdMismatch);
    }
  }
  /* A configured tolerance replaces the default. */
  EXPECT_TRUE(mip_replay_check_timestamp(st, kNow + 20 * kSec, kNow, 30).ok());
  EXPECT_FALSE(mip_replay_check_timestamp(st, kNow + 20 * kSec, kNow, 7).ok());
  EXPECT_FALSE(mip_replay_check_timestamp(st, kNow + 1, kNow, 0).ok());
  EXPECT_TRUE(mip_replay_check_timestamp(st, kNow, kNow, 0).ok());
}

/* 5.7.1: on mismatch the reply carries our seconds high, the request's low 32 bits. */
TEST(MipReplay, MismatchIdentificationLayout) {
  const MipReplayState st;
  const uint64_t req = kNow - 3600 * kSec + 0x1234;  /* an hour slow */
  const auto r = mip_replay_check_timestamp(st, req, kNow, 7);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code, MipReplyCode::kHaIdMismatch);
  EXPECT_EQ(static_cast<int>(r.code), 133);
  EXPECT_EQ(r.reply_id >> 32, kNow >> 32);
  EXPECT_EQ(static_cast<uint32_t>(r.reply_id), static_cast<uint32_t>(req));
  /* The mobile node matches the reply and learns the clock offset. */
  EXPECT_TRUE(mip_reply_id_matches(req, r.reply_id));
  EXPECT_FALSE(mip_reply_id_matches(req + 1, r.reply_id));
  EXPECT_EQ(mip_timestamp_offset_s(r.reply_id, req), 3600);
  EXPECT_EQ(mip_timestamp_offset_s(req, r.reply_id), -3600);
}

/* 5.7.1: greater than every accepted one; commit only what was accepted. */
TEST(MipReplay, TimestampMustIncrease) {
  MipSa sa;
  MipReplayState st;
  const uint64_t a = kNow - 2 * kSec;
  auto r = mip_replay_check(sa, st, a, kNow, 0);
  ASSERT_TRUE(r.ok());
  mip_replay_commit(sa, &st, a, r);
  EXPECT_TRUE(st.have_last);
  EXPECT_EQ(st.last_id, a);
  /* The same again (a replay) and an older one fail as not newer. */
  r = mip_replay_check(sa, st, a, kNow, 0);
  EXPECT_EQ(r.verdict, MipReplayVerdict::kNotNewer);
  EXPECT_EQ(r.code, MipReplyCode::kHaIdMismatch);
  EXPECT_EQ(mip_replay_check(sa, st, a - 1, kNow, 0).verdict, MipReplayVerdict::kNotNewer);
  /* A refused check changes nothing when committed. */
  mip_replay_commit(sa, &st, a - 1, mip_replay_check(sa, st, a - 1, kNow, 0));
  EXPECT_EQ(st.last_id, a);
  /* One tick later is fine. */
  r = mip_replay_check(sa, st, a + 1, kNow, 0);
  EXPECT_TRUE(r.ok());
}

/* Comparisons are modulo 2^64: they hold across the NTP era wrap (2036). */
TEST(MipReplay, TimestampAcrossEraWrap) {
  MipReplayState st;
  const uint64_t now = 0xffffffff00000000ULL + (kSec / 2);  /* the last second of era 0 */
  const uint64_t after = now + 2 * kSec;                     /* wraps to era 1 */
  ASSERT_LT(after, now);
  EXPECT_TRUE(mip_replay_check_timestamp(st, after, now, 7).ok());
  st.have_last = true;
  st.last_id = now;
  EXPECT_TRUE(mip_replay_check_timestamp(st, after, now, 7).ok());
  st.last_id = after;
  EXPECT_EQ(mip_replay_check_timestamp(st, now, now, 7).verdict, MipReplayVerdict::kNotNewer);
}

/* 5.7.2: high half the HA's nonce, low half the MN's. */
TEST(MipReplay, Nonces) {
  MipSa sa;
  sa.replay = MipReplayMethod::kNonces;
  MipReplayState st;
  /* First contact: the MN cannot know our nonce; 133 hands it one. */
  const uint64_t first = mip_nonce_id(0, 0xaaaa0001);
  auto r = mip_replay_check(sa, st, first, kNow, 0x11111111);
  EXPECT_EQ(r.verdict, MipReplayVerdict::kNonceMismatch);
  EXPECT_EQ(r.code, MipReplyCode::kHaIdMismatch);
  EXPECT_EQ(r.reply_id, 0x11111111aaaa0001ULL);
  mip_replay_commit(sa, &st, first, r);
  EXPECT_TRUE(st.have_nonce);
  EXPECT_EQ(st.nonce, 0x11111111u);
  /* The MN retries with it: accepted, and a new nonce goes back. */
  const uint64_t second = mip_nonce_id(0x11111111, 0xaaaa0002);
  r = mip_replay_check(sa, st, second, kNow, 0x22222222);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.code, MipReplyCode::kAccepted);
  EXPECT_EQ(r.reply_id, 0x22222222aaaa0002ULL);
  EXPECT_TRUE(mip_reply_id_matches(second, r.reply_id));
  mip_replay_commit(sa, &st, second, r);
  /* Replaying the accepted request fails: its nonce was used up. */
  r = mip_replay_check(sa, st, second, kNow, 0x33333333);
  EXPECT_EQ(r.verdict, MipReplayVerdict::kNonceMismatch);
  EXPECT_EQ(static_cast<uint32_t>(r.reply_id), 0xaaaa0002u);
  EXPECT_EQ(r.reply_id >> 32, 0x33333333u);
  /* Time plays no part in nonce mode. */
  const uint64_t third = mip_nonce_id(0x22222222, 7);
  EXPECT_TRUE(mip_replay_check(sa, st, third, 0, 0x44444444).ok());
}
