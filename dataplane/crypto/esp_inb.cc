/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP inbound, tunnel mode, IPv4 (RFC 4303 3.4): outer IPv4 [/ UDP 4500]
 * / ESP in, the inner IPv4 packet out (the data window moves onto it).
 *
 * Order per packet, as RFC 4303 3.4.3 asks: outer header, SPI, anti-replay
 * check (cheap rejection, and the ESN high half for the ICV), ICV verify
 * (constant time), then the anti-replay window update, then the trailer
 * (padding, next header) and the inner header. AES-GCM runs through the
 * direct API packet by packet; CBC/NULL + HMAC as one burst of jobs.
 */
#include <algorithm>
#include <cstring>

#include "codec/esp.h"
#include "codec/ipv4.h"
#include "codec/udp.h"
#include "crypto/esp_sa.h"

namespace mipvpn {

namespace {

/* RFC 1071 over the header: the one's complement sum of a correct header
 * is all ones. Five 32-bit words for the usual 20 bytes (the sum is
 * byte-order independent), the generic loop with options. */
inline bool ipv4_csum_ok(const std::byte* d, uint32_t hl) noexcept {
  if (hl != kIpv4HdrLen) return csum_fold(csum_partial(cbytes(d, hl))) == 0;
  uint32_t w[5];
  std::memcpy(w, d, sizeof w);
  uint64_t s = uint64_t{w[0]} + w[1] + w[2] + w[3] + w[4];
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffffffffu) + (s >> 32);
  uint32_t r = static_cast<uint32_t>(s);
  r = (r & 0xffff) + (r >> 16);
  r = (r & 0xffff) + (r >> 16);
  return r == 0xffff;
}

/*
 * The outer header: IPv4 without fragmentation, checksum right, protocol
 * ESP, or UDP whose payload is ESP (RFC 3948 2.2: a non-ESP marker means
 * IKE and a one-byte 0xFF is a keepalive, both of which the runtime
 * demultiplexes before this stage, so here they are refused).
 */
inline EspDrop inb_outer(const EspSaHot& h, const PktView* p, std::byte** esp,
                         uint32_t* esp_len) noexcept {
  const uint32_t len = p->data_len;
  std::byte* d = p->data();
  if (len < kIpv4HdrLen) return EspDrop::kBadOuter;
  const uint32_t vihl = std::to_integer<uint32_t>(d[0]);
  const uint32_t hl = (vihl & 15) * 4;
  const uint32_t tl = load_be16(d + 2);
  if ((vihl >> 4) != 4 || hl < kIpv4HdrLen || hl > tl || tl > len) return EspDrop::kBadOuter;
  if (load_be16(d + 6) & (kIpv4FlagMf | kIpv4OffMask)) return EspDrop::kBadOuter;
  if (!ipv4_csum_ok(d, hl)) return EspDrop::kBadOuter;
  const uint8_t proto = std::to_integer<uint8_t>(d[9]);
  std::byte* e = d + hl;
  uint32_t el = tl - hl;
  if (proto == kIpProtoUdp) {
    if (el < kUdpHdrLen || load_be16(e + 4) != el) return EspDrop::kBadOuter;
    const uint16_t dport = load_be16(e + 2);
    if (dport != kPortNatt && dport != h.natt_sport && dport != h.natt_dport)
      return EspDrop::kBadOuter;
    e += kUdpHdrLen;
    el -= kUdpHdrLen;
    if (el == 1 && std::to_integer<uint8_t>(e[0]) == 0xff) return EspDrop::kBadOuter;
    if (el >= 4 && load_be32(e) == 0) return EspDrop::kBadOuter;
  } else if (proto != kIpProtoEsp) {
    return EspDrop::kBadOuter;
  }
  *esp = e;
  *esp_len = el;
  return EspDrop::kNone;
}

/* Sizes, SPI, anti-replay check. *ct_len: the encrypted part's length. */
inline EspDrop inb_esp(const EspSaHot& h, const std::byte* e, uint32_t el, uint32_t* ct_len,
                       uint64_t* seq) noexcept {
  const uint32_t fixed = kEspHdrLen + h.iv_len + h.icv_len;
  if (el < fixed + h.align) return EspDrop::kTruncated;
  const uint32_t ct = el - fixed;
  if (ct & (h.align - 1u)) return EspDrop::kBadAlignment;
  if (std::memcmp(e, &h.spi_be, 4) != 0) return EspDrop::kSpiMismatch;
  switch (h.replay->check(load_be32(e + 4), seq)) {
    case ReplayVerdict::kOk: break;
    case ReplayVerdict::kReplayed: return EspDrop::kReplayed;
    case ReplayVerdict::kTooOld: return EspDrop::kTooOld;
  }
  *ct_len = ct;
  return EspDrop::kNone;
}

/* After the ICV verified: window update, trailer, inner header. */
inline EspDrop inb_finish(const EspSaHot& h, PktView* p, std::byte* e, uint32_t ct,
                          uint64_t seq) noexcept {
  /* RFC 4303 3.4.3: the window moves only for authentic packets; the
   * update re-checks, so a duplicate later in the same burst is caught. */
  switch (h.replay->update(seq)) {
    case ReplayVerdict::kOk: break;
    case ReplayVerdict::kReplayed: return EspDrop::kReplayed;
    case ReplayVerdict::kTooOld: return EspDrop::kTooOld;
  }
  std::byte* plain = e + kEspHdrLen + h.iv_len;
  const auto t = esp_trailer_parse(cbytes(plain, ct));
  if (!t) return t.error() == CodecError::kBadPadding ? EspDrop::kBadPadding : EspDrop::kBadPadLength;
  if (t->next_header != kEspNextIpv4)
    return t->next_header == kEspNextNone ? EspDrop::kDummy : EspDrop::kBadNextHeader;
  /* The inner IPv4 header (RFC 4301 5.1.2: tunnel mode carries a whole
   * datagram). Bytes between its total length and the padding are TFC
   * padding (RFC 4303 2.7) and are dropped with the trailer. Its checksum
   * is covered by the ICV; the forwarding stage checks it as a router. */
  const uint32_t avail = t->payload_len;
  if (avail < kIpv4HdrLen) return EspDrop::kBadInner;
  const uint32_t vihl = std::to_integer<uint32_t>(plain[0]);
  const uint32_t tl = load_be16(plain + 2);
  if ((vihl >> 4) != 4 || (vihl & 15) < 5 || tl < (vihl & 15) * 4 || tl > avail)
    return EspDrop::kBadInner;
  p->data_off = static_cast<uint32_t>(plain - p->buf);
  p->data_len = tl;
  return EspDrop::kNone;
}

uint16_t inb_burst(EspEngine& eng, EspSa& sa, PktView** pkts, uint16_t n) noexcept {
  const EspSaHot& h = sa.impl()->hot;
  EspScratch& sc = eng.scratch();
  IMB_MGR* mgr = eng.mgr();
  bool any_bad = false;
  const uint32_t iv_len = h.iv_len;
  const uint32_t icv_len = h.icv_len;

  if (h.cipher == EspCipher::kAesGcm) {
    const aes_gcm_enc_dec_t dec = h.key_len == 16 ? mgr->gcm128_dec : mgr->gcm256_dec;
    for (uint16_t i = 0; i < n; ++i) {
      PktView* p = pkts[i];
      std::byte* e;
      uint32_t el, ct = 0;
      uint64_t seq = 0;
      EspDrop d = inb_outer(h, p, &e, &el);
      if (d == EspDrop::kNone) d = inb_esp(h, e, el, &ct, &seq);
      if (d == EspDrop::kNone) {
        auto* eu = reinterpret_cast<uint8_t*>(e);
        alignas(16) uint8_t nonce[16];
        std::memcpy(nonce, h.salt, 4);
        std::memcpy(nonce + 4, eu + kEspHdrLen, 8);
        alignas(16) uint8_t aad_esn[12];
        const uint8_t* aad = eu;
        uint64_t aad_len = kEspHdrLen;
        if (h.esn) {  /* RFC 4106 5: SPI || seq_hi || seq_lo */
          std::memcpy(aad_esn, eu, 4);
          store_be32(reinterpret_cast<std::byte*>(aad_esn + 4), static_cast<uint32_t>(seq >> 32));
          std::memcpy(aad_esn + 8, eu + 4, 4);
          aad = aad_esn;
          aad_len = 12;
        }
        uint8_t* c = eu + kEspHdrLen + 8;
        alignas(16) uint8_t tag[16];
        gcm_context_data ctx;
        dec(&h.keys->gcm, &ctx, c, c, ct, nonce, aad, aad_len, tag, 16);
        if (!esp_icv_equal(tag, c + ct, 16))
          d = EspDrop::kAuthFailed;
        else
          d = inb_finish(h, p, e, ct, seq);
      }
      sc.drop[i] = static_cast<uint16_t>(d);
      sc.bad[i] = d != EspDrop::kNone;
      any_bad |= sc.bad[i];
    }
  } else {
    const EspKeys* k = h.keys;
    const bool esn = h.esn;
    auto retire = [&](IMB_JOB* jb) {
      if (jb->status != IMB_STATUS_COMPLETED) {
        const uint16_t i = static_cast<uint16_t>(reinterpret_cast<uintptr_t>(jb->user_data));
        sc.bad[i] = true;
        sc.drop[i] = static_cast<uint16_t>(EspDrop::kCryptoError);
        any_bad = true;
      }
    };
    /*
     * The jobs of a burst are all checked against the window as it was
     * before the burst. With ESN that inference (RFC 4303 A2.2) can be
     * wrong for packets after a low-half wrap inside the burst (a window
     * that has not yet seen the pre-wrap packets takes 0, 1, ... for the
     * old subspace), so a burst is cut where the low half wraps and each
     * piece is checked after the window update of the previous one.
     */
    for (uint16_t start = 0; start < n;) {
      uint16_t end = n;
      uint32_t prev_lo = 0;
      bool have_prev = false;
      for (uint16_t i = start; i < n; ++i) {
        PktView* p = pkts[i];
        std::byte* e;
        uint32_t el, ct = 0;
        uint64_t seq = 0;
        EspDrop d = inb_outer(h, p, &e, &el);
        if (esn && d == EspDrop::kNone && el >= kEspHdrLen) {
          const uint32_t lo = load_be32(e + 4);
          if (have_prev && prev_lo - lo > 0x80000000u) {
            end = i;
            break;
          }
          prev_lo = lo;
          have_prev = true;
        }
        if (d == EspDrop::kNone) d = inb_esp(h, e, el, &ct, &seq);
        sc.drop[i] = static_cast<uint16_t>(d);
        sc.bad[i] = d != EspDrop::kNone;
        if (sc.bad[i]) {
          any_bad = true;
          continue;
        }
        sc.esp[i] = e;
        sc.len[i] = ct;
        sc.seq[i] = seq;
        auto* eu = reinterpret_cast<uint8_t*>(e);
        uint8_t* icv = eu + kEspHdrLen + iv_len + ct;
        /* RFC 4303 2.2.1/3.4.4.1 (ESN): the high half is appended for the
         * ICV computation; it goes where the received ICV was, which is
         * saved first (two fixed 8-byte copies cover 12 or 16 bytes).
         * Without ESN the job does not touch the ICV: compared in place. */
        if (esn) {
          std::memcpy(sc.icv[i], icv, 8);
          std::memcpy(sc.icv[i] + icv_len - 8, icv + icv_len - 8, 8);
          store_be32(reinterpret_cast<std::byte*>(icv), static_cast<uint32_t>(seq >> 32));
        }
        IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
        job->cipher_mode = h.imb_cipher;
        job->cipher_direction = IMB_DIR_DECRYPT;
        job->chain_order = IMB_ORDER_HASH_CIPHER;  /* the ICV covers the ciphertext */
        job->enc_keys = k->enc;
        job->dec_keys = k->dec;
        job->key_len_in_bytes = h.imb_key_len;
        job->src = eu;
        job->dst = eu + kEspHdrLen + iv_len;
        job->cipher_start_src_offset_in_bytes = kEspHdrLen + iv_len;
        job->msg_len_to_cipher_in_bytes = ct;
        job->iv = eu + kEspHdrLen;
        job->iv_len_in_bytes = iv_len;
        job->hash_alg = h.imb_hash;
        job->hash_start_src_offset_in_bytes = 0;
        job->msg_len_to_hash_in_bytes = kEspHdrLen + iv_len + ct + (esn ? 4 : 0);
        job->auth_tag_output = sc.tag[i];
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

      /* In packet order, so the window sees sequence numbers as sent. */
      for (uint16_t i = start; i < end; ++i) {
        if (sc.bad[i]) continue;
        EspDrop d;
        const uint8_t* rx = esn ? sc.icv[i]
                                : reinterpret_cast<const uint8_t*>(sc.esp[i]) + kEspHdrLen +
                                      iv_len + sc.len[i];
        if (!esp_icv_equal(sc.tag[i], rx, icv_len))
          d = EspDrop::kAuthFailed;
        else
          d = inb_finish(h, pkts[i], sc.esp[i], sc.len[i], sc.seq[i]);
        if (d != EspDrop::kNone) {
          sc.drop[i] = static_cast<uint16_t>(d);
          sc.bad[i] = true;
          any_bad = true;
        }
      }
      start = end;
    }
  }

  /* Counters, once per burst; one writer per inbound SA. */
  EspSaStats& st = *h.stats;
  uint64_t good = 0, bytes = 0;
  for (uint16_t i = 0; i < n; ++i) {
    if (sc.bad[i]) {
      pkts[i]->drop = sc.drop[i];
      ++st.drops[sc.drop[i]];
    } else {
      ++good;
      bytes += pkts[i]->data_len;
    }
  }
  st.packets += good;
  st.bytes += bytes;
  return any_bad ? move_bad_to_tail(pkts, n, sc.bad) : n;
}

}  // namespace

uint16_t esp_inb_process(EspEngine& eng, EspSa& sa, PktView** pkts, uint16_t n) noexcept {
  if (sa.impl()->hot.replay == nullptr) {  /* an outbound SA: grouped wrongly */
    for (uint16_t i = 0; i < n; ++i) pkts[i]->drop = static_cast<uint16_t>(EspDrop::kSpiMismatch);
    sa.impl()->stats.drops[static_cast<size_t>(EspDrop::kSpiMismatch)] += n;
    return 0;
  }
  if (n <= kMaxBurst) return inb_burst(eng, sa, pkts, n);
  return esp_in_chunks(pkts, n, [&](PktView** p, uint16_t c) { return inb_burst(eng, sa, p, c); });
}

}  // namespace mipvpn
