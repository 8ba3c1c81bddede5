/* SPDX-License-Identifier: BSD-3-Clause */
#include "mip/replay.h"

namespace mipvpn {

namespace {

constexpr uint64_t low32(uint64_t v) noexcept { return v & 0xffffffffULL; }

/* a - b as a signed 64-bit NTP difference (wraps across NTP eras). */
constexpr int64_t ntp_diff(uint64_t a, uint64_t b) noexcept {
  return static_cast<int64_t>(a - b);
}

}  // namespace

MipReplayResult mip_replay_check_timestamp(const MipReplayState& st, uint64_t req_id,
                                           uint64_t now_ntp, uint32_t tolerance_s) noexcept {
  MipReplayResult r;
  const int64_t d = ntp_diff(req_id, now_ntp);
  /* |d| <= tolerance, both in 32.32 fixed point (unsigned: fits). */
  const uint64_t tol = uint64_t{tolerance_s} << 32;
  const uint64_t mag = d < 0 ? uint64_t(0) - static_cast<uint64_t>(d) : static_cast<uint64_t>(d);
  if (mag > tol) {
    r.verdict = MipReplayVerdict::kOutsideTolerance;
  } else if (st.have_last && ntp_diff(req_id, st.last_id) <= 0) {
    r.verdict = MipReplayVerdict::kNotNewer;
  }
  if (r.ok()) {
    r.reply_id = req_id;  /* 5.7.1: the whole Identification copied */
    r.code = MipReplyCode::kAccepted;
  } else {
    /* 5.7.1: our time in the high 32 bits, the request's low 32 bits. */
    r.reply_id = (now_ntp & ~0xffffffffULL) | low32(req_id);
    r.code = MipReplyCode::kHaIdMismatch;
  }
  return r;
}

MipReplayResult mip_replay_check_nonce(const MipReplayState& st, uint64_t req_id,
                                       uint32_t new_nonce) noexcept {
  MipReplayResult r;
  if (!st.have_nonce || static_cast<uint32_t>(req_id >> 32) != st.nonce)
    r.verdict = MipReplayVerdict::kNonceMismatch;
  r.reply_id = (uint64_t{new_nonce} << 32) | low32(req_id);
  r.code = r.ok() ? MipReplyCode::kAccepted : MipReplyCode::kHaIdMismatch;
  return r;
}

MipReplayResult mip_replay_check(const MipSa& sa, const MipReplayState& st, uint64_t req_id,
                                 uint64_t now_ntp, uint32_t new_nonce) noexcept {
  return sa.replay == MipReplayMethod::kNonces
             ? mip_replay_check_nonce(st, req_id, new_nonce)
             : mip_replay_check_timestamp(st, req_id, now_ntp, sa.tolerance_s);
}

void mip_replay_commit(const MipSa& sa, MipReplayState* st, uint64_t req_id,
                       const MipReplayResult& r) noexcept {
  if (sa.replay == MipReplayMethod::kNonces) {
    /* The nonce we send is the one the next request must carry. */
    st->have_nonce = true;
    st->nonce = static_cast<uint32_t>(r.reply_id >> 32);
    return;
  }
  if (!r.ok()) return;
  st->have_last = true;
  st->last_id = req_id;
}

}  // namespace mipvpn
