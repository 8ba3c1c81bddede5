/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Registration message authentication, RFC 5944 3.5.
 *
 * 3.5.1: the default algorithm is HMAC-MD5 (RFC 2104) with a 128-bit
 * authenticator, computed over the UDP payload from its first byte up to
 * and including the SPI field of the authentication extension: the fixed
 * part, every extension before it in its entirety, and its own Type,
 * Length and SPI. Bytes after the authenticator are not covered: anyone
 * on the path can append them (RFC 5265 TNC counts only before it).
 * The same rule holds for the Mobile-Foreign (33) and Foreign-Home (34)
 * extensions with their own security associations.
 *
 * HMAC-MD5 comes from Intel IPsec-MB: IMB_MD5_ONE_BLOCK precomputes the
 * inner and outer states (key xor ipad / opad, RFC 2104 2) and the job
 * API's IMB_AUTH_MD5 finishes the HMAC. IPsec-MB 1.3 has no plain MD5,
 * which RFC 2104 needs to hash a key longer than the 64-byte block, so
 * keys over 64 bytes are refused (kKeyTooLong): configure at most 64.
 *
 * Verification compares in constant time. One MipHmacMd5 per thread: it
 * owns an IMB_MGR, which is not thread safe.
 */
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "codec/endian.h"
#include "mip/codes.h"
#include "mip/msg.h"

struct IMB_MGR;

namespace mipvpn {

enum class MipAuthAlg : uint8_t {
  kHmacMd5 = 1,   /* RFC 5944 3.5.1 default; the only one supported */
};

enum class MipReplayMethod : uint8_t {
  kTimestamps,    /* RFC 5944 5.7.1, mandatory to implement */
  kNonces,        /* RFC 5944 5.7.2 */
};

/*
 * A mobility security association between a mobile node and its home
 * agent (RFC 5944 1.6, 3.5), as configuration fills it.
 */
struct MipSa {
  static constexpr size_t kMaxKeyLen = 64;     /* one MD5 block, see above */
  static constexpr size_t kWeakKeyLen = 16;    /* RFC 5944 3.5.1: 128-bit keys */
  static constexpr uint32_t kDefaultToleranceS = 7;  /* RFC 5944 5.7.1 */

  uint32_t spi = 0;                            /* 256 and up (0..255 reserved) */
  MipAuthAlg alg = MipAuthAlg::kHmacMd5;
  std::array<std::byte, kMaxKeyLen> key{};
  uint8_t key_len = 0;
  MipReplayMethod replay = MipReplayMethod::kTimestamps;
  uint32_t tolerance_s = kDefaultToleranceS;   /* timestamps: allowed clock difference */

  /* Copy a key in; kKeyEmpty / kKeyTooLong leave the SA unchanged. */
  MipError set_key(cbytes k) noexcept;
  cbytes key_bytes() const noexcept { return cbytes(key).first(key_len); }
};

/* kOk, or why the SA cannot be used: kBadSpi (0..255), kBadAlgorithm,
 * kKeyEmpty, kKeyTooLong. */
MipError mip_sa_check(const MipSa& sa) noexcept;
/* Shorter than 128 bits: usable but weak (RFC 5265 6: warn). */
constexpr bool mip_sa_key_weak(const MipSa& sa) noexcept { return sa.key_len < MipSa::kWeakKeyLen; }

/* Constant time for equal sizes; different sizes are simply unequal. */
bool mip_ct_equal(cbytes a, cbytes b) noexcept;

class MipHmacMd5 {
 public:
  static constexpr size_t kDigestLen = 16;
  static constexpr size_t kBlockLen = 64;

  /* RFC 2104 inner and outer MD5 states after one block of key xor pad. */
  struct Key {
    alignas(16) std::array<uint8_t, kDigestLen> ipad{};
    alignas(16) std::array<uint8_t, kDigestLen> opad{};
  };

  MipHmacMd5() noexcept;  /* check init_error() */
  ~MipHmacMd5();
  MipHmacMd5(const MipHmacMd5&) = delete;
  MipHmacMd5& operator=(const MipHmacMd5&) = delete;

  MipError init_error() const noexcept { return mgr_ ? MipError::kOk : MipError::kCryptoInit; }

  /* kKeyEmpty, kKeyTooLong (over 64 bytes), kCryptoInit. */
  MipError make_key(cbytes key, Key* out) noexcept;
  /* HMAC-MD5 of data under k into out. kTruncated for empty data
   * (IPsec-MB takes no zero-length HMAC job), kCryptoInit if the job failed. */
  MipError mac(const Key& k, cbytes data, std::span<std::byte, kDigestLen> out) noexcept;
  /* Both in one call. */
  MipError mac(cbytes key, cbytes data, std::span<std::byte, kDigestLen> out) noexcept;

 private:
  IMB_MGR* mgr_ = nullptr;
};

/* The authenticator of msg's first covered_len bytes under sa. */
MipError mip_auth_compute(MipHmacMd5& h, const MipSa& sa, cbytes covered,
                          std::span<std::byte, MipHmacMd5::kDigestLen> out) noexcept;

/*
 * Append an authentication extension of the given type (32 by default)
 * with sa's SPI and the HMAC-MD5 of everything before its authenticator
 * (RFC 5944 3.5.1). Add it after the extensions it must cover.
 */
MipError mip_add_auth(MipMsgBuilder& b, MipHmacMd5& h, const MipSa& sa,
                      uint8_t type = kMipExtMnHaAuth) noexcept;

/*
 * Verify one authentication extension of msg (as mip_scan_extensions
 * found it): kAuthMissing (absent), kAuthSpiMismatch (not sa.spi),
 * kAuthBadLength (not 16 bytes), kAuthFailed (wrong), or an SA error.
 */
MipError mip_verify_auth(MipHmacMd5& h, const MipSa& sa, cbytes msg, const MipAuthExt& a) noexcept;

/*
 * The same two with the RFC 2104 pads precomputed (MipHmacMd5::make_key
 * once per SA): two MD5 blocks fewer per message, for a home agent that
 * answers at line rate. The caller checked the SA (mip_sa_check) when it
 * made the key.
 */
MipError mip_add_auth_key(MipMsgBuilder& b, MipHmacMd5& h, uint32_t spi, const MipHmacMd5::Key& k,
                          uint8_t type = kMipExtMnHaAuth) noexcept;
MipError mip_verify_auth_key(MipHmacMd5& h, uint32_t spi, const MipHmacMd5::Key& k, cbytes msg,
                             const MipAuthExt& a) noexcept;

/* The Mobile-Home Authentication extension (RFC 5944 3.5.2). */
inline MipError mip_verify_mn_ha(MipHmacMd5& h, const MipSa& sa, cbytes msg,
                                 const MipExts& x) noexcept {
  return mip_verify_auth(h, sa, msg, x.mn_ha);
}

/*
 * RFC 5265 3.4 with CONFORMANCE.md: the reply carries a TNC (sub-type
 * 0) that the Mobile-Home authenticator covers, and that authenticator
 * verifies under sa.
 */
bool mip_authenticated_tnc(MipHmacMd5& h, const MipSa& sa, cbytes msg, const MipExts& x) noexcept;

}  // namespace mipvpn
