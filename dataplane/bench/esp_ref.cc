/* SPDX-License-Identifier: BSD-3-Clause */
#include "esp_ref.h"

#include <intel-ipsec-mb.h>

#include <array>
#include <cstring>
#include <stdexcept>

namespace mipvpn::bench {

struct RawEsp::Impl {
  IMB_MGR* mgr = nullptr;
  const EspSuite* suite = nullptr;
  alignas(64) gcm_key_data gcm_key;
  alignas(16) uint32_t enc_keys[60];
  alignas(16) uint32_t dec_keys[60];
  alignas(16) uint8_t ipad[32];
  alignas(16) uint8_t opad[32];
  uint8_t salt[4] = {};
  IMB_HASH_ALG hash = IMB_AUTH_NULL;
  IMB_CIPHER_MODE cipher = IMB_CIPHER_NULL;
  alignas(16) std::array<std::array<uint8_t, 32>, 256> tags{};

  ~Impl() {
    if (mgr) free_mb_mgr(mgr);
  }
};

RawEsp::~RawEsp() = default;

std::unique_ptr<RawEsp> RawEsp::create(const EspSuite& suite, std::span<const uint8_t> ck,
                                       std::span<const uint8_t> ak) {
  std::unique_ptr<RawEsp> r(new RawEsp());
  r->impl_ = std::make_unique<Impl>();
  Impl& m = *r->impl_;
  m.suite = &suite;
  m.mgr = alloc_mb_mgr(0);
  if (!m.mgr) throw std::runtime_error("alloc_mb_mgr failed");
  init_mb_mgr_auto(m.mgr, nullptr);
  if (suite.cipher == EspCipher::kAesGcm) {
    r->name_ = "ipsec-mb-direct-gcm";
    if (suite.key_len == 16)
      IMB_AES128_GCM_PRE(m.mgr, ck.data(), &m.gcm_key);
    else
      IMB_AES256_GCM_PRE(m.mgr, ck.data(), &m.gcm_key);
    std::memcpy(m.salt, ck.data() + suite.key_len, 4);
    return r;
  }
  r->name_ = "ipsec-mb-burst-job";
  if (suite.cipher == EspCipher::kAesCbc) {
    m.cipher = IMB_CIPHER_CBC;
    if (suite.key_len == 16)
      IMB_AES_KEYEXP_128(m.mgr, ck.data(), m.enc_keys, m.dec_keys);
    else
      IMB_AES_KEYEXP_256(m.mgr, ck.data(), m.enc_keys, m.dec_keys);
  }
  /* HMAC: hash of (key ^ ipad) and (key ^ opad), one block each. */
  alignas(16) uint8_t block[64];
  auto pad = [&](uint8_t x) {
    std::memset(block, x, sizeof(block));
    for (size_t i = 0; i < ak.size(); ++i) block[i] = static_cast<uint8_t>(ak[i] ^ x);
  };
  if (suite.auth == EspAuth::kHmacSha1_96) {
    m.hash = IMB_AUTH_HMAC_SHA_1;
    pad(0x36);
    IMB_SHA1_ONE_BLOCK(m.mgr, block, m.ipad);
    pad(0x5c);
    IMB_SHA1_ONE_BLOCK(m.mgr, block, m.opad);
  } else {
    m.hash = IMB_AUTH_HMAC_SHA_256;
    pad(0x36);
    IMB_SHA256_ONE_BLOCK(m.mgr, block, m.ipad);
    pad(0x5c);
    IMB_SHA256_ONE_BLOCK(m.mgr, block, m.opad);
  }
  return r;
}

namespace {

/* CBC/NULL + HMAC through the burst job API, whole burst in flight.
 * Encrypt: cipher then hash, ICV written after the ciphertext. Decrypt:
 * hash then cipher, ICV into m.tags[i] for the caller to compare. */
void run_jobs(RawEsp::Impl& m, uint8_t* const* bufs, uint32_t len, uint16_t n, IMB_CIPHER_DIRECTION dir) {
  const EspSuite& s = *m.suite;
  const bool enc = dir == IMB_DIR_ENCRYPT;
  IMB_JOB* jobs[256];
  uint16_t done = 0;
  while (done < n) {
    const uint32_t got = IMB_GET_NEXT_BURST(m.mgr, n - done, jobs);
    for (uint32_t j = 0; j < got; ++j) {
      uint8_t* b = bufs[done + j];
      IMB_JOB* job = jobs[j];
      job->cipher_mode = m.cipher;
      job->cipher_direction = dir;
      job->chain_order = enc ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
      job->enc_keys = m.enc_keys;
      job->dec_keys = m.dec_keys;
      job->key_len_in_bytes = s.cipher == EspCipher::kAesCbc ? s.key_len : 0;
      job->src = b;
      job->dst = b + 8 + s.iv_len;
      job->cipher_start_src_offset_in_bytes = 8u + s.iv_len;
      job->msg_len_to_cipher_in_bytes = len;
      job->iv = b + 8;
      job->iv_len_in_bytes = s.iv_len;
      job->hash_alg = m.hash;
      job->hash_start_src_offset_in_bytes = 0;
      job->msg_len_to_hash_in_bytes = 8u + s.iv_len + len;
      job->auth_tag_output = enc ? b + 8 + s.iv_len + len : m.tags[done + j].data();
      job->auth_tag_output_len_in_bytes = s.icv_len;
      job->u.HMAC._hashed_auth_key_xor_ipad = m.ipad;
      job->u.HMAC._hashed_auth_key_xor_opad = m.opad;
    }
    uint32_t completed = IMB_SUBMIT_BURST_NOCHECK(m.mgr, got, jobs);
    while (completed < got) completed += IMB_FLUSH_BURST(m.mgr, got - completed, jobs);
    done = static_cast<uint16_t>(done + got);
  }
}

}  // namespace

void RawEsp::encrypt_burst(uint8_t* const* bufs, uint32_t len, uint16_t n) {
  Impl& m = *impl_;
  const EspSuite& s = *m.suite;
  if (s.cipher == EspCipher::kAesGcm) {
    for (uint16_t i = 0; i < n; ++i) {
      uint8_t* b = bufs[i];
      alignas(16) uint8_t iv[12];
      std::memcpy(iv, m.salt, 4);
      std::memcpy(iv + 4, b + 8, 8);
      gcm_context_data ctx;
      uint8_t* p = b + 16;
      if (s.key_len == 16)
        IMB_AES128_GCM_ENC(m.mgr, &m.gcm_key, &ctx, p, p, len, iv, b, 8, p + len, 16);
      else
        IMB_AES256_GCM_ENC(m.mgr, &m.gcm_key, &ctx, p, p, len, iv, b, 8, p + len, 16);
    }
    return;
  }
  run_jobs(m, bufs, len, n, IMB_DIR_ENCRYPT);
}

uint16_t RawEsp::decrypt_burst(uint8_t* const* bufs, uint32_t len, uint16_t n) {
  Impl& m = *impl_;
  const EspSuite& s = *m.suite;
  uint16_t good = 0;
  if (s.cipher == EspCipher::kAesGcm) {
    for (uint16_t i = 0; i < n; ++i) {
      uint8_t* b = bufs[i];
      alignas(16) uint8_t iv[12];
      alignas(16) uint8_t tag[16];
      std::memcpy(iv, m.salt, 4);
      std::memcpy(iv + 4, b + 8, 8);
      gcm_context_data ctx;
      uint8_t* p = b + 16;
      if (s.key_len == 16)
        IMB_AES128_GCM_DEC(m.mgr, &m.gcm_key, &ctx, p, p, len, iv, b, 8, tag, 16);
      else
        IMB_AES256_GCM_DEC(m.mgr, &m.gcm_key, &ctx, p, p, len, iv, b, 8, tag, 16);
      good = static_cast<uint16_t>(good + (std::memcmp(tag, p + len, 16) == 0));
    }
    return good;
  }
  run_jobs(m, bufs, len, n, IMB_DIR_DECRYPT);
  for (uint16_t i = 0; i < n; ++i)
    good = static_cast<uint16_t>(
        good + (std::memcmp(m.tags[i].data(), bufs[i] + 8 + s.iv_len + len, s.icv_len) == 0));
  return good;
}

}  // namespace mipvpn::bench
