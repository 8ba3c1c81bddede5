/* SPDX-License-Identifier: BSD-3-Clause */
#include "mip/auth.h"

#include <intel-ipsec-mb.h>

#include <cstring>

namespace mipvpn {

MipError MipSa::set_key(cbytes k) noexcept {
  if (k.empty()) return MipError::kKeyEmpty;
  if (k.size() > kMaxKeyLen) return MipError::kKeyTooLong;
  key = {};
  std::memcpy(key.data(), k.data(), k.size());
  key_len = static_cast<uint8_t>(k.size());
  return MipError::kOk;
}

MipError mip_sa_check(const MipSa& sa) noexcept {
  if (sa.spi < 256) return MipError::kBadSpi;  /* RFC 5944 1.6: 0..255 reserved */
  if (sa.alg != MipAuthAlg::kHmacMd5) return MipError::kBadAlgorithm;
  if (sa.key_len == 0) return MipError::kKeyEmpty;
  if (sa.key_len > MipSa::kMaxKeyLen) return MipError::kKeyTooLong;
  return MipError::kOk;
}

bool mip_ct_equal(cbytes a, cbytes b) noexcept {
  if (a.size() != b.size()) return false;
  /* No early exit: the time depends on the length only. */
  volatile uint8_t acc = 0;
  for (size_t i = 0; i < a.size(); ++i) acc = acc | std::to_integer<uint8_t>(a[i] ^ b[i]);
  return acc == 0;
}

MipHmacMd5::MipHmacMd5() noexcept {
  mgr_ = alloc_mb_mgr(0);
  if (!mgr_) return;
  init_mb_mgr_auto(mgr_, nullptr);
  if (imb_get_errno(mgr_) != 0) {
    free_mb_mgr(mgr_);
    mgr_ = nullptr;
  }
}

MipHmacMd5::~MipHmacMd5() {
  if (mgr_) free_mb_mgr(mgr_);
}

MipError MipHmacMd5::make_key(cbytes key, Key* out) noexcept {
  if (!mgr_) return MipError::kCryptoInit;
  if (key.empty()) return MipError::kKeyEmpty;
  /* RFC 2104 2: a key longer than B is hashed first; IPsec-MB 1.3 offers
   * no plain MD5 to do it with (see auth.h). */
  if (key.size() > kBlockLen) return MipError::kKeyTooLong;
  alignas(16) uint8_t block[kBlockLen];
  /* RFC 2104 2: K padded with zeros to B bytes, xor ipad (0x36) / opad (0x5c). */
  for (size_t i = 0; i < kBlockLen; ++i) {
    const uint8_t k = i < key.size() ? std::to_integer<uint8_t>(key[i]) : 0;
    block[i] = k ^ 0x36;
  }
  IMB_MD5_ONE_BLOCK(mgr_, block, out->ipad.data());
  for (size_t i = 0; i < kBlockLen; ++i) block[i] ^= 0x36 ^ 0x5c;
  IMB_MD5_ONE_BLOCK(mgr_, block, out->opad.data());
  std::memset(block, 0, sizeof(block));
  return MipError::kOk;
}

MipError MipHmacMd5::mac(const Key& k, cbytes data, std::span<std::byte, kDigestLen> out) noexcept {
  if (!mgr_) return MipError::kCryptoInit;
  /* IPsec-MB 1.3 refuses an HMAC job of length 0 (IMB_ERR_JOB_AUTH_LEN);
   * a registration message never is (24 or 20 bytes at least). */
  if (data.empty()) return MipError::kTruncated;
  IMB_JOB* job = IMB_GET_NEXT_JOB(mgr_);
  job->cipher_mode = IMB_CIPHER_NULL;
  job->cipher_direction = IMB_DIR_ENCRYPT;
  job->chain_order = IMB_ORDER_HASH_CIPHER;
  job->hash_alg = IMB_AUTH_MD5;  /* HMAC-MD5 */
  job->src = reinterpret_cast<const uint8_t*>(data.data());
  job->dst = nullptr;
  job->enc_keys = nullptr;
  job->dec_keys = nullptr;
  job->key_len_in_bytes = 0;
  job->iv = nullptr;
  job->iv_len_in_bytes = 0;
  job->cipher_start_src_offset_in_bytes = 0;
  job->msg_len_to_cipher_in_bytes = 0;
  job->hash_start_src_offset_in_bytes = 0;
  job->msg_len_to_hash_in_bytes = data.size();
  job->auth_tag_output = reinterpret_cast<uint8_t*>(out.data());
  job->auth_tag_output_len_in_bytes = kDigestLen;
  job->u.HMAC._hashed_auth_key_xor_ipad = k.ipad.data();
  job->u.HMAC._hashed_auth_key_xor_opad = k.opad.data();
  job->user_data = nullptr;
  /* One job in flight: submit returns it or nothing, then flush does. */
  IMB_JOB* done = IMB_SUBMIT_JOB(mgr_);
  while (done == nullptr) {
    done = IMB_FLUSH_JOB(mgr_);
    if (done == nullptr) return MipError::kCryptoInit;
  }
  return done->status == IMB_STATUS_COMPLETED ? MipError::kOk : MipError::kCryptoInit;
}

MipError MipHmacMd5::mac(cbytes key, cbytes data, std::span<std::byte, kDigestLen> out) noexcept {
  Key k;
  if (const MipError e = make_key(key, &k); e != MipError::kOk) return e;
  return mac(k, data, out);
}

MipError mip_auth_compute(MipHmacMd5& h, const MipSa& sa, cbytes covered,
                          std::span<std::byte, MipHmacMd5::kDigestLen> out) noexcept {
  if (const MipError e = mip_sa_check(sa); e != MipError::kOk) return e;
  return h.mac(sa.key_bytes(), covered, out);
}

MipError mip_add_auth(MipMsgBuilder& b, MipHmacMd5& h, const MipSa& sa, uint8_t type) noexcept {
  if (b.error() != MipError::kOk) return b.error();
  if (const MipError e = mip_sa_check(sa); e != MipError::kOk) return e;
  const std::array<std::byte, MipHmacMd5::kDigestLen> zero{};
  if (const MipError e = b.add_auth(type, sa.spi, zero); e != MipError::kOk) return e;
  const uint32_t covered = b.last_ext_offset() + 2u + kMipAuthSpiLen;
  const bytes m = b.msg_mut();
  return mip_auth_compute(h, sa, m.first(covered),
                          m.subspan(covered).first<MipHmacMd5::kDigestLen>());
}

MipError mip_verify_auth(MipHmacMd5& h, const MipSa& sa, cbytes msg, const MipAuthExt& a) noexcept {
  if (!a.present) return MipError::kAuthMissing;
  if (const MipError e = mip_sa_check(sa); e != MipError::kOk) return e;
  if (a.spi != sa.spi) return MipError::kAuthSpiMismatch;
  if (a.authenticator.size() != MipHmacMd5::kDigestLen) return MipError::kAuthBadLength;
  /* The extension was found inside msg by the walker; check anyway. */
  if (a.covered_len() + MipHmacMd5::kDigestLen > msg.size()) return MipError::kAuthBadLength;
  std::array<std::byte, MipHmacMd5::kDigestLen> want;
  if (const MipError e = mip_auth_compute(h, sa, msg.first(a.covered_len()), want);
      e != MipError::kOk)
    return e;
  return mip_ct_equal(want, a.authenticator) ? MipError::kOk : MipError::kAuthFailed;
}

MipError mip_add_auth_key(MipMsgBuilder& b, MipHmacMd5& h, uint32_t spi, const MipHmacMd5::Key& k,
                          uint8_t type) noexcept {
  if (b.error() != MipError::kOk) return b.error();
  if (spi < 256) return MipError::kBadSpi;
  const std::array<std::byte, MipHmacMd5::kDigestLen> zero{};
  if (const MipError e = b.add_auth(type, spi, zero); e != MipError::kOk) return e;
  const uint32_t covered = b.last_ext_offset() + 2u + kMipAuthSpiLen;
  const bytes m = b.msg_mut();
  return h.mac(k, m.first(covered), m.subspan(covered).first<MipHmacMd5::kDigestLen>());
}

MipError mip_verify_auth_key(MipHmacMd5& h, uint32_t spi, const MipHmacMd5::Key& k, cbytes msg,
                             const MipAuthExt& a) noexcept {
  if (!a.present) return MipError::kAuthMissing;
  if (a.spi != spi) return MipError::kAuthSpiMismatch;
  if (a.authenticator.size() != MipHmacMd5::kDigestLen) return MipError::kAuthBadLength;
  if (a.covered_len() + MipHmacMd5::kDigestLen > msg.size()) return MipError::kAuthBadLength;
  std::array<std::byte, MipHmacMd5::kDigestLen> want;
  if (const MipError e = h.mac(k, msg.first(a.covered_len()), want); e != MipError::kOk) return e;
  return mip_ct_equal(want, a.authenticator) ? MipError::kOk : MipError::kAuthFailed;
}

bool mip_authenticated_tnc(MipHmacMd5& h, const MipSa& sa, cbytes msg, const MipExts& x) noexcept {
  return x.tnc && x.tnc_before_auth && mip_verify_mn_ha(h, sa, msg, x) == MipError::kOk;
}

}  // namespace mipvpn
