/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replay protection of Registration Requests, RFC 5944 5.7, through the
 * 64-bit Identification field. Pure functions: the current time and any
 * random number come in as parameters; the state is the caller's.
 *
 * Either method (5.7): the low 32 bits of the request's Identification
 * are copied unchanged into the reply, and the mobile node checks them
 * (3.6.3.1) before it uses the reply's high 32 bits.
 *
 * Timestamps (5.7.1, mandatory): the Identification is an NTP 64-bit
 * time (seconds since 1900 . fraction). The home agent accepts it when
 * it lies within the association's tolerance of its own clock (default
 * 7 s, either direction) and is greater than every Identification it
 * accepted before from that mobile node. Otherwise it replies 133
 * (identification mismatch) with its own time in the high 32 bits and
 * the request's low 32 bits.
 *
 * Nonces (5.7.2): the high 32 bits are the home agent's nonce, the low
 * 32 bits the mobile node's. The request must carry, in its high half,
 * the nonce the home agent sent last; every reply carries a new one
 * there (on 133 too, so the mobile node can retry with it).
 *
 * Two phases, as for IPsec anti-replay: check before acting, commit
 * (mip_replay_commit) only once the request authenticated and was
 * accepted.
 *
 * NTP era 0 ends in 2036; comparisons here are modulo 2^64 (a signed
 * difference), so they hold across the wrap as long as the two times
 * are within 68 years of each other.
 */
#pragma once

#include <cstdint>

#include "mip/auth.h"
#include "mip/codes.h"

namespace mipvpn {

/* Seconds from 1900-01-01 (NTP epoch) to 1970-01-01 (Unix epoch). */
inline constexpr uint64_t kNtpUnixOffset = 2208988800ULL;

/* An NTP 64-bit timestamp from Unix seconds and a 32-bit fraction. */
constexpr uint64_t mip_ntp_from_unix(uint64_t unix_s, uint32_t frac = 0) noexcept {
  return ((unix_s + kNtpUnixOffset) << 32) | frac;
}

/* What a home agent remembers per mobile node. */
struct MipReplayState {
  bool have_last = false;  /* timestamps: an Identification was accepted */
  uint64_t last_id = 0;    /* timestamps: the greatest accepted */
  bool have_nonce = false; /* nonces: a nonce was sent to the mobile node */
  uint32_t nonce = 0;      /* nonces: the last one sent (request's high half) */
};

enum class MipReplayVerdict : uint8_t {
  kOk,
  kOutsideTolerance,  /* timestamp too far from our clock (either side) */
  kNotNewer,          /* timestamp not greater than the last accepted */
  kNonceMismatch,     /* high half is not the nonce we sent last (or none yet) */
};

/* The home agent's decision on one request's Identification. */
struct MipReplayResult {
  MipReplayVerdict verdict = MipReplayVerdict::kOk;
  uint64_t reply_id = 0;  /* the Identification to put in the reply */
  /* kAccepted when verdict is kOk (the caller may still refuse for other
   * reasons), else kHaIdMismatch (133). */
  MipReplyCode code = MipReplyCode::kAccepted;
  bool ok() const noexcept { return verdict == MipReplayVerdict::kOk; }
};

/*
 * Timestamps, 5.7.1. now_ntp: the home agent's clock as NTP 64-bit.
 * Within tolerance means |req_id - now_ntp| <= tolerance_s seconds
 * (fractions count). On success reply_id is req_id; on failure it is
 * (now's seconds << 32) | (req_id's low 32 bits) with code 133.
 */
MipReplayResult mip_replay_check_timestamp(const MipReplayState& st, uint64_t req_id,
                                           uint64_t now_ntp, uint32_t tolerance_s) noexcept;

/*
 * Nonces, 5.7.2. new_nonce: a fresh random number from the caller,
 * returned to the mobile node in the reply's high 32 bits whatever the
 * verdict; the low 32 bits are the request's.
 */
MipReplayResult mip_replay_check_nonce(const MipReplayState& st, uint64_t req_id,
                                       uint32_t new_nonce) noexcept;

/* Either, as the security association says. */
MipReplayResult mip_replay_check(const MipSa& sa, const MipReplayState& st, uint64_t req_id,
                                 uint64_t now_ntp, uint32_t new_nonce) noexcept;

/*
 * Record a request accepted with result r (after authentication). For
 * nonces, record the nonce sent in the reply also when refusing with 133
 * (the mobile node retries with it): call with the refused result too.
 */
void mip_replay_commit(const MipSa& sa, MipReplayState* st, uint64_t req_id,
                       const MipReplayResult& r) noexcept;

/* Mobile node side (5.7): the reply answers this request. */
constexpr bool mip_reply_id_matches(uint64_t req_id, uint64_t reply_id) noexcept {
  return static_cast<uint32_t>(req_id) == static_cast<uint32_t>(reply_id);
}

/*
 * Mobile node, timestamps, after a 133 that matches its request: the
 * home agent's clock minus ours, in whole seconds (the reply's high 32
 * bits against now_ntp's), to correct the next Identification.
 */
constexpr int64_t mip_timestamp_offset_s(uint64_t reply_id, uint64_t now_ntp) noexcept {
  return static_cast<int32_t>(static_cast<uint32_t>(reply_id >> 32) -
                              static_cast<uint32_t>(now_ntp >> 32));
}

/* Mobile node, nonces: the next request's Identification. */
constexpr uint64_t mip_nonce_id(uint32_t ha_nonce, uint32_t mn_random) noexcept {
  return (uint64_t{ha_nonce} << 32) | mn_random;
}

}  // namespace mipvpn
