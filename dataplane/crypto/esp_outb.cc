/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP outbound, tunnel mode, IPv4 (RFC 4303 3.1.2, 3.3): inner IPv4
 * packet in, outer IPv4 [/ UDP 4500] / ESP / IV / ciphertext / ICV out.
 *
 * Per burst: (1) check every inner packet and its room, (2) reserve the
 * sequence numbers of the good ones with one atomic add, (3) frame them
 * (outer header from the SA's template, ESP header, trailer), (4) crypto:
 * AES-GCM through IPsec-MB's direct API one packet after the other (the
 * cheapest path for GCM), AES-CBC/NULL + HMAC through the job API with the
 * whole burst in flight (multi-buffer SHA needs many lanes busy), then
 * (5) counters, written once.
 */
#include <algorithm>
#include <atomic>
#include <cstring>

#include "codec/esp.h"
#include "codec/ipv4.h"
#include "codec/udp.h"
#include "crypto/esp_sa.h"

namespace mipvpn {

namespace {

inline void put_be64(std::byte* p, uint64_t v) noexcept {
  store_be32(p, static_cast<uint32_t>(v >> 32));
  store_be32(p + 4, static_cast<uint32_t>(v));
}

/* An inner packet we can carry: IPv4, sane IHL and total length, and
 * room around it for the headers and the trailer. *inner_len gets the
 * IPv4 total length (bytes past it, e.g. Ethernet padding, are dropped). */
inline EspDrop outb_check(const EspSaHot& h, const PktView* p, uint32_t* inner_len) noexcept {
  if (p->data_len < kIpv4HdrLen) return EspDrop::kNotIpv4;
  const std::byte* d = p->data();
  const uint32_t vihl = std::to_integer<uint32_t>(d[0]);
  const uint32_t tl = load_be16(d + 2);
  if ((vihl >> 4) != 4 || (vihl & 15) < 5 || tl < (vihl & 15) * 4 || tl > p->data_len)
    return EspDrop::kNotIpv4;
  const uint32_t plen = tl + esp_pad_len(tl, h.align) + kEspTrailerLen;
  if (h.hdr_len + plen + h.icv_len > 65535) return EspDrop::kTooBig;
  if (p->data_off < h.hdr_len || p->buf_len - p->data_off < plen + h.icv_len)
    return EspDrop::kNoRoom;
  *inner_len = tl;
  return EspDrop::kNone;
}

/*
 * Build everything but the IV and the ICV around the inner packet of
 * inner_len bytes, for sequence number s; moves the data window to the
 * outer header. Returns the ESP header. RFC 4301 5.1.2.1: the outer
 * header's DSCP and ECN are copied from the inner one (the whole TOS
 * byte), DF too; ID from the SA's sequence counter (unique per SA for
 * 2^16 packets, which is all RFC 6864 asks of atomic datagrams).
 */
inline std::byte* outb_frame(const EspSaHot& h, PktView* p, uint32_t inner_len, uint64_t s,
                             uint32_t* plen_out) noexcept {
  std::byte* inner = p->data();
  const uint32_t pad = esp_pad_len(inner_len, h.align);
  const uint32_t plen = inner_len + pad + kEspTrailerLen;
  const uint32_t total = h.hdr_len + plen + h.icv_len;

  /* RFC 4303 2.4-2.6: Padding 1, 2, 3, ..., Pad Length, Next Header 4. */
  std::byte* t = inner + inner_len;
  for (uint32_t k = 0; k < pad; ++k) t[k] = std::byte(k + 1);  /* pad < 16 */
  t[pad] = std::byte(pad);
  t[pad + 1] = std::byte(kEspNextIpv4);

  const uint8_t tos = std::to_integer<uint8_t>(inner[1]);
  const uint16_t df = load_be16(inner + 6) & kIpv4FlagDf;
  const uint16_t id = static_cast<uint16_t>(s);

  std::byte* o = inner - h.hdr_len;
  std::memcpy(o, h.outer_tmpl, kOuterTmplLen);  /* hdr_len >= 28 always */
  o[1] = std::byte(tos);
  store_be16(o + 2, static_cast<uint16_t>(total));
  store_be16(o + 4, id);
  store_be16(o + 6, df);
  store_be16(o + 10, csum_fold(h.outer_sum + tos + total + id + df));
  if (h.natt) store_be16(o + kIpv4HdrLen + 4, static_cast<uint16_t>(total - kIpv4HdrLen));

  std::byte* e = o + h.outer_len;
  std::memcpy(e, &h.spi_be, 4);
  store_be32(e + 4, static_cast<uint32_t>(s));  /* RFC 4303 2.2: low 32 bits only */

  p->data_off -= h.hdr_len;
  p->data_len = total;
  *plen_out = plen;
  return e;
}

/* AES-GCM (RFC 4106) for one framed packet: IV = the 64-bit sequence
 * number (4106 3.1: a counter is allowed, and it never repeats for an
 * SA); nonce = salt || IV (4106 4); AAD = SPI || seq, or SPI || seq_hi ||
 * seq_lo with ESN (4106 5). The ICV is written in place after the
 * ciphertext. */
inline void outb_gcm(IMB_MGR* mgr, aes_gcm_enc_dec_t enc, const EspSaHot& h, std::byte* e,
                     uint32_t plen, uint64_t s) noexcept {
  auto* eu = reinterpret_cast<uint8_t*>(e);
  put_be64(e + kEspHdrLen, s);
  alignas(16) uint8_t nonce[16];
  std::memcpy(nonce, h.salt, 4);
  std::memcpy(nonce + 4, eu + kEspHdrLen, 8);
  alignas(16) uint8_t aad_esn[12];
  const uint8_t* aad = eu;
  uint64_t aad_len = kEspHdrLen;
  if (h.esn) {
    std::memcpy(aad_esn, eu, 4);
    store_be32(reinterpret_cast<std::byte*>(aad_esn + 4), static_cast<uint32_t>(s >> 32));
    std::memcpy(aad_esn + 8, eu + 4, 4);
    aad = aad_esn;
    aad_len = 12;
  }
  uint8_t* payload = eu + kEspHdrLen + 8;
  gcm_context_data ctx;
  enc(&h.keys->gcm, &ctx, payload, payload, plen, nonce, aad, aad_len, payload + plen, 16);
  (void)mgr;
}

/* Add a burst's counters to an SA that several lcores may share. */
inline void stats_add(uint64_t& field, uint64_t v) noexcept {
  if (v) std::atomic_ref<uint64_t>(field).fetch_add(v, std::memory_order_relaxed);
}

uint16_t outb_burst(EspEngine& eng, EspSa& sa, PktView** pkts, uint16_t n) noexcept {
  EspSaHot& h = sa.impl()->hot;
  EspScratch& sc = eng.scratch();
  IMB_MGR* mgr = eng.mgr();

  /* (1) checks */
  uint16_t m = 0;
  bool any_bad = false;
  for (uint16_t i = 0; i < n; ++i) {
    const EspDrop d = outb_check(h, pkts[i], &sc.len[i]);
    sc.drop[i] = static_cast<uint16_t>(d);
    sc.bad[i] = d != EspDrop::kNone;
    any_bad |= sc.bad[i];
    if (!sc.bad[i]) sc.idx[m++] = i;
  }

  /* (2) RFC 4303 3.3.3: one atomic add reserves the burst's numbers. */
  const uint64_t s0 = m ? h.seq.fetch_add(m, std::memory_order_relaxed) : 0;
  /* Without ESN the counter must not cycle past 2^32 - 1 (3.3.3); with
   * ESN the 64-bit space does not run out in practice. */
  uint16_t m_ok = m;
  if (!h.esn && m && s0 + m - 1 > 0xffffffffull) {
    m_ok = s0 > 0xffffffffull ? 0 : static_cast<uint16_t>(0x100000000ull - s0);
    for (uint16_t j = m_ok; j < m; ++j) {
      const uint16_t i = sc.idx[j];
      sc.bad[i] = true;
      sc.drop[i] = static_cast<uint16_t>(EspDrop::kSeqOverflow);
    }
    any_bad = true;
  }

  /* (3)+(4) */
  if (h.cipher == EspCipher::kAesGcm) {
    const aes_gcm_enc_dec_t enc = h.key_len == 16 ? mgr->gcm128_enc : mgr->gcm256_enc;
    for (uint16_t j = 0; j < m_ok; ++j) {
      PktView* p = pkts[sc.idx[j]];
      const uint64_t s = s0 + j;
      uint32_t plen;
      std::byte* e = outb_frame(h, p, sc.len[sc.idx[j]], s, &plen);
      outb_gcm(mgr, enc, h, e, plen, s);
    }
  } else {
    const uint32_t iv_len = h.iv_len;
    for (uint16_t j = 0; j < m_ok; ++j) {
      const uint16_t i = sc.idx[j];
      const uint64_t s = s0 + j;
      sc.seq[j] = s;
      sc.esp[j] = outb_frame(h, pkts[i], sc.len[i], s, &sc.plen[j]);
      if (iv_len) {
        std::memset(sc.iv_in[j], 0, 16);
        put_be64(reinterpret_cast<std::byte*>(sc.iv_in[j]), s);
      }
    }
    if (iv_len && m_ok) {
      /*
       * CBC IVs, RFC 3602 2.4 / RFC 4303 3.3.2: unpredictable and never
       * repeated. IV = AES-ECB under a random per-SA IV key (drawn from
       * getrandom at SA creation, independent of the data key) of the
       * 64-bit sequence number: distinct because the sequence number never
       * repeats within an SA and AES is a permutation; unpredictable to
       * anyone without the IV key (an adversary who sees earlier IVs
       * learns nothing of the next, unlike a plain counter or the last
       * ciphertext block). This is SP 800-38A appendix C's "encrypt a
       * nonce" method with a separate key, and costs one parallel ECB job
       * per burst instead of a random-number call per packet.
       */
      IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
      job->cipher_mode = IMB_CIPHER_ECB;
      job->cipher_direction = IMB_DIR_ENCRYPT;
      job->chain_order = IMB_ORDER_CIPHER_HASH;
      job->hash_alg = IMB_AUTH_NULL;
      job->enc_keys = h.keys->iv_enc;
      job->dec_keys = h.keys->iv_enc;
      job->key_len_in_bytes = IMB_KEY_128_BYTES;
      job->src = sc.iv_in[0];
      job->dst = sc.iv_out[0];
      job->cipher_start_src_offset_in_bytes = 0;
      job->msg_len_to_cipher_in_bytes = uint64_t{m_ok} * 16;
      job->iv = nullptr;
      job->iv_len_in_bytes = 0;
      job->hash_start_src_offset_in_bytes = 0;
      job->msg_len_to_hash_in_bytes = 0;
      job->auth_tag_output = nullptr;
      job->auth_tag_output_len_in_bytes = 0;
      job = IMB_SUBMIT_JOB_NOCHECK(mgr);
      while (job == nullptr) job = IMB_FLUSH_JOB(mgr);
      if (job->status != IMB_STATUS_COMPLETED) {
        /* Never seen; refuse the burst rather than send a bad IV. */
        for (uint16_t j = 0; j < m_ok; ++j) {
          sc.bad[sc.idx[j]] = true;
          sc.drop[sc.idx[j]] = static_cast<uint16_t>(EspDrop::kCryptoError);
        }
        any_bad = true;
        m_ok = 0;
      }
    }
    const EspKeys* k = h.keys;
    const uint32_t icv_len = h.icv_len;
    const uint32_t esn_extra = h.esn ? 4 : 0;
    auto retire = [&](IMB_JOB* jb) {
      if (jb->status != IMB_STATUS_COMPLETED) {
        const uint16_t i = static_cast<uint16_t>(reinterpret_cast<uintptr_t>(jb->user_data));
        sc.bad[i] = true;
        sc.drop[i] = static_cast<uint16_t>(EspDrop::kCryptoError);
        any_bad = true;
      }
    };
    for (uint16_t j = 0; j < m_ok; ++j) {
      const uint16_t i = sc.idx[j];
      uint8_t* e = reinterpret_cast<uint8_t*>(sc.esp[j]);
      const uint32_t plen = sc.plen[j];
      uint8_t* icv = e + kEspHdrLen + iv_len + plen;
      if (iv_len) std::memcpy(e + kEspHdrLen, sc.iv_out[j], 16);
      /* RFC 4303 2.2.1/3.3.2.1: with ESN the high half follows the
       * payload for the ICV computation only; the ICV then covers it. */
      if (esn_extra)
        store_be32(reinterpret_cast<std::byte*>(icv), static_cast<uint32_t>(sc.seq[j] >> 32));
      IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
      job->cipher_mode = h.imb_cipher;
      job->cipher_direction = IMB_DIR_ENCRYPT;
      job->chain_order = IMB_ORDER_CIPHER_HASH;
      job->enc_keys = k->enc;
      job->dec_keys = k->dec;
      job->key_len_in_bytes = h.imb_key_len;
      job->src = e;
      job->dst = e + kEspHdrLen + iv_len;
      job->cipher_start_src_offset_in_bytes = kEspHdrLen + iv_len;
      job->msg_len_to_cipher_in_bytes = plen;
      job->iv = e + kEspHdrLen;
      job->iv_len_in_bytes = iv_len;
      job->hash_alg = h.imb_hash;
      job->hash_start_src_offset_in_bytes = 0;
      job->msg_len_to_hash_in_bytes = kEspHdrLen + iv_len + plen + esn_extra;
      job->auth_tag_output = icv;
      job->auth_tag_output_len_in_bytes = icv_len;
      job->u.HMAC._hashed_auth_key_xor_ipad = k->ipad;
      job->u.HMAC._hashed_auth_key_xor_opad = k->opad;
      job->user_data = reinterpret_cast<void*>(uintptr_t{i});
      job = IMB_SUBMIT_JOB_NOCHECK(mgr);
      while (job) {
        retire(job);
        job = IMB_GET_COMPLETED_JOB(mgr);
      }
    }
    while (IMB_JOB* job = IMB_FLUSH_JOB(mgr)) retire(job);
  }

  /* (5) counters, once per burst */
  uint64_t bytes = 0, good = 0;
  uint64_t drops[static_cast<size_t>(EspDrop::kCount)] = {};
  for (uint16_t i = 0; i < n; ++i) {
    if (sc.bad[i]) {
      pkts[i]->drop = sc.drop[i];
      ++drops[sc.drop[i]];
    } else {
      ++good;
    }
  }
  if (!any_bad) {
    for (uint16_t i = 0; i < n; ++i) bytes += sc.len[i];
  } else {
    for (uint16_t i = 0; i < n; ++i)
      if (!sc.bad[i]) bytes += sc.len[i];
  }
  EspSaStats& st = *h.stats;
  stats_add(st.packets, good);
  stats_add(st.bytes, bytes);
  if (any_bad)
    for (size_t d = 1; d < static_cast<size_t>(EspDrop::kCount); ++d) stats_add(st.drops[d], drops[d]);

  return any_bad ? move_bad_to_tail(pkts, n, sc.bad) : n;
}

}  // namespace

uint16_t esp_outb_process(EspEngine& eng, EspSa& sa, PktView** pkts, uint16_t n) noexcept {
  if (sa.impl()->hot.replay != nullptr) {  /* an inbound SA: grouped wrongly */
    for (uint16_t i = 0; i < n; ++i) pkts[i]->drop = static_cast<uint16_t>(EspDrop::kSpiMismatch);
    stats_add(sa.impl()->stats.drops[static_cast<size_t>(EspDrop::kSpiMismatch)], n);
    return 0;
  }
  if (n <= kMaxBurst) return outb_burst(eng, sa, pkts, n);
  return esp_in_chunks(pkts, n, [&](PktView** p, uint16_t c) { return outb_burst(eng, sa, p, c); });
}

}  // namespace mipvpn
