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

/* What the burst loop reads of the SA, in registers for the burst. */
struct InbCtx {
  const EspSaHot& h;
  ReplayWindow& rw;
  uint32_t iv_len, icv_len, align, fixed;  /* fixed: ESP header + IV + ICV */
  uint32_t spi_be;
  uint16_t natt_sport, natt_dport;
  bool esn;
  explicit InbCtx(const EspSaHot& hh) noexcept
      : h(hh), rw(*hh.replay), iv_len(hh.iv_len), icv_len(hh.icv_len), align(hh.align),
        fixed(kEspHdrLen + hh.iv_len + hh.icv_len), spi_be(0), natt_sport(hh.natt_sport),
        natt_dport(hh.natt_dport), esn(hh.esn) {
    std::memcpy(&spi_be, &hh.spi_be, 4);
  }
};

/*
 * The outer header: IPv4 without fragmentation, checksum right (RFC 1071:
 * the one's complement sum of a correct header is all ones), protocol
 * ESP, or UDP whose payload is ESP (RFC 3948 2.2: a non-ESP marker means
 * IKE and a one-byte 0xFF is a keepalive, both of which the runtime
 * demultiplexes before this stage, so here they are refused). Every
 * refusal is kBadOuter, so the usual 20-byte header is judged with one
 * branch.
 */
inline bool inb_outer(const InbCtx& c, const PktView* p, std::byte** esp, uint32_t* esp_len) noexcept {
  const uint32_t len = p->data_len;
  std::byte* d = p->data();
  if (len < kIpv4HdrLen) [[unlikely]] return false;
  uint32_t w[5];
  std::memcpy(w, d, sizeof w);
  const uint32_t vihl = w[0] & 0xff;
  const uint32_t hl = (vihl & 15) * 4;
  const uint32_t tl = __builtin_bswap16(static_cast<uint16_t>(w[0] >> 16));
  /* bytes 6-7: MF and the fragment offset must be 0 */
  const bool ok = ((vihl >> 4) == 4) & (hl >= kIpv4HdrLen) & (hl <= tl) & (tl <= len) &
                  ((w[1] & 0xff3f0000u) == 0);
  if (!ok) [[unlikely]] return false;
  if (hl == kIpv4HdrLen) [[likely]] {
    uint64_t sum = uint64_t{w[0]} + w[1] + w[2] + w[3] + w[4];
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    uint32_t r = static_cast<uint32_t>(sum);
    r = (r & 0xffff) + (r >> 16);
    r = (r & 0xffff) + (r >> 16);
    if (r != 0xffff) return false;
  } else if (csum_fold(csum_partial(cbytes(d, hl))) != 0) {
    return false;
  }
  const uint32_t proto = (w[2] >> 8) & 0xff;
  std::byte* e = d + hl;
  uint32_t el = tl - hl;
  if (proto != kIpProtoEsp) {
    if (proto != kIpProtoUdp) return false;
    if (el < kUdpHdrLen || load_be16(e + 4) != el) return false;
    const uint16_t dport = load_be16(e + 2);
    if (dport != kPortNatt && dport != c.natt_sport && dport != c.natt_dport) return false;
    e += kUdpHdrLen;
    el -= kUdpHdrLen;
    if (el == 1 && std::to_integer<uint8_t>(e[0]) == 0xff) return false;
    if (el >= 4 && load_be32(e) == 0) return false;
  }
  *esp = e;
  *esp_len = el;
  return true;
}

/* Sizes, SPI, anti-replay check. *ct_len: the encrypted part's length. */
inline EspDrop inb_esp(const InbCtx& c, const std::byte* e, uint32_t el, uint32_t* ct_len,
                       uint64_t* seq) noexcept {
  if (el < c.fixed + c.align) [[unlikely]] return EspDrop::kTruncated;
  const uint32_t ct = el - c.fixed;
  if (ct & (c.align - 1u)) [[unlikely]] return EspDrop::kBadAlignment;
  uint32_t spi;
  std::memcpy(&spi, e, 4);
  if (spi != c.spi_be) [[unlikely]] return EspDrop::kSpiMismatch;
  switch (c.rw.check(load_be32(e + 4), seq)) {
    case ReplayVerdict::kOk: break;
    case ReplayVerdict::kReplayed: return EspDrop::kReplayed;
    case ReplayVerdict::kTooOld: return EspDrop::kTooOld;
  }
  *ct_len = ct;
  return EspDrop::kNone;
}

/* After the ICV verified: window update, trailer, inner header. */
inline EspDrop inb_finish(const InbCtx& c, PktView* p, std::byte* e, uint32_t ct,
                          uint64_t seq) noexcept {
  /* RFC 4303 3.4.3: the window moves only for authentic packets; the
   * update re-checks, so a duplicate later in the same burst is caught. */
  switch (c.rw.update(seq)) {
    case ReplayVerdict::kOk: break;
    case ReplayVerdict::kReplayed: return EspDrop::kReplayed;
    case ReplayVerdict::kTooOld: return EspDrop::kTooOld;
  }
  std::byte* plain = e + kEspHdrLen + c.iv_len;
  const auto t = esp_trailer_parse(cbytes(plain, ct));
  if (!t) [[unlikely]]
    return t.error() == CodecError::kBadPadding ? EspDrop::kBadPadding : EspDrop::kBadPadLength;
  if (t->next_header != kEspNextIpv4) [[unlikely]]
    return t->next_header == kEspNextNone ? EspDrop::kDummy : EspDrop::kBadNextHeader;
  /* The inner IPv4 header (RFC 4301 5.1.2: tunnel mode carries a whole
   * datagram). Bytes between its total length and the padding are TFC
   * padding (RFC 4303 2.7) and are dropped with the trailer. Its checksum
   * is covered by the ICV; the forwarding stage checks it as a router. */
  const uint32_t avail = t->payload_len;
  if (avail < kIpv4HdrLen) [[unlikely]] return EspDrop::kBadInner;
  uint32_t w0;
  std::memcpy(&w0, plain, 4);
  const uint32_t vihl = w0 & 0xff;
  const uint32_t ihl4 = (vihl & 15) * 4;
  const uint32_t tl = __builtin_bswap16(static_cast<uint16_t>(w0 >> 16));
  const bool ok = ((vihl >> 4) == 4) & (ihl4 >= kIpv4HdrLen) & (tl >= ihl4) & (tl <= avail);
  if (!ok) [[unlikely]] return EspDrop::kBadInner;
  p->data_off = static_cast<uint32_t>(plain - p->buf);
  p->data_len = tl;
  return EspDrop::kNone;
}

[[gnu::cold, gnu::noinline]] void crypto_failed(EspScratch& sc, const IMB_JOB* jb) noexcept {
  const uint16_t i = static_cast<uint16_t>(reinterpret_cast<uintptr_t>(jb->user_data));
  sc.bad[i] = true;
  sc.drop[i] = static_cast<uint16_t>(EspDrop::kCryptoError);
}

/* Counters, once per burst; one writer per inbound SA. */
uint16_t inb_done(EspSaStats& st, EspScratch& sc, PktView** pkts, uint16_t n, bool any_bad,
                  uint64_t bytes) noexcept {
  if (!any_bad) [[likely]] {
    st.packets += n;
    st.bytes += bytes;
    return n;
  }
  uint64_t good = 0;
  for (uint16_t i = 0; i < n; ++i) {
    if (sc.bad[i]) {
      pkts[i]->drop = sc.drop[i];
      ++st.drops[sc.drop[i]];
    } else {
      ++good;
    }
  }
  st.packets += good;
  st.bytes += bytes;
  return move_bad_to_tail(pkts, n, sc.bad);
}

uint16_t inb_gcm(EspEngine& eng, const EspSaHot& h, PktView** pkts, uint16_t n) noexcept {
  EspScratch& sc = eng.scratch();
  IMB_MGR* mgr = eng.mgr();
  const InbCtx c(h);
  const aes_gcm_enc_dec_t dec = h.key_len == 16 ? mgr->gcm128_dec : mgr->gcm256_dec;
  const gcm_key_data* key = &h.keys->gcm;
  bool any_bad = false;
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < n; ++i) {
    PktView* p = pkts[i];
    std::byte* e;
    uint32_t el, ct = 0;
    uint64_t seq = 0;
    EspDrop d = EspDrop::kBadOuter;
    if (inb_outer(c, p, &e, &el)) [[likely]]
      d = inb_esp(c, e, el, &ct, &seq);
    if (d == EspDrop::kNone) [[likely]] {
      auto* eu = reinterpret_cast<uint8_t*>(e);
      alignas(16) uint8_t nonce[16];
      std::memcpy(nonce, h.salt, 4);
      std::memcpy(nonce + 4, eu + kEspHdrLen, 8);
      alignas(16) uint8_t aad_esn[12];
      const uint8_t* aad = eu;
      uint64_t aad_len = kEspHdrLen;
      if (c.esn) {  /* RFC 4106 5: SPI || seq_hi || seq_lo */
        std::memcpy(aad_esn, eu, 4);
        store_be32(reinterpret_cast<std::byte*>(aad_esn + 4), static_cast<uint32_t>(seq >> 32));
        std::memcpy(aad_esn + 8, eu + 4, 4);
        aad = aad_esn;
        aad_len = 12;
      }
      uint8_t* ctext = eu + kEspHdrLen + 8;
      alignas(16) uint8_t tag[16];
      gcm_context_data ctx;
      dec(key, &ctx, ctext, ctext, ct, nonce, aad, aad_len, tag, 16);
      if (!esp_icv_equal(tag, ctext + ct, 16)) [[unlikely]]
        d = EspDrop::kAuthFailed;
      else
        d = inb_finish(c, p, e, ct, seq);
    }
    const bool bad = d != EspDrop::kNone;
    sc.bad[i] = bad;
    if (bad) [[unlikely]] {
      sc.drop[i] = static_cast<uint16_t>(d);
      any_bad = true;
    } else {
      bytes += p->data_len;
    }
  }
  return inb_done(*h.stats, sc, pkts, n, any_bad, bytes);
}

uint16_t inb_hmac(EspEngine& eng, const EspSaHot& h, PktView** pkts, uint16_t n) noexcept {
  EspScratch& sc = eng.scratch();
  IMB_MGR* mgr = eng.mgr();
  const InbCtx c(h);
  const EspKeys* k = h.keys;
  const bool esn = c.esn;
  const uint32_t iv_len = c.iv_len;
  const uint32_t icv_len = c.icv_len;
  const IMB_CIPHER_MODE cmode = h.imb_cipher;
  const IMB_HASH_ALG halg = h.imb_hash;
  const IMB_KEY_SIZE_BYTES klen = h.imb_key_len;
  bool any_bad = false;
  bool crypto_bad = false;
  uint64_t bytes = 0;
  IMB_JOB* jobs[IMB_MAX_BURST_SIZE];
  /*
   * The jobs of a burst are all checked against the window as it was
   * before the burst. With ESN that inference (RFC 4303 A2.2) can be
   * wrong for packets after a low-half wrap inside the burst (a window
   * that has not yet seen the pre-wrap packets takes 0, 1, ... for the
   * old subspace), so a burst is cut where the low half wraps and each
   * piece is checked after the window update of the previous one. Pieces
   * are also cut at IMB_MAX_BURST_SIZE packets, the burst API's limit.
   */
  for (uint16_t start = 0; start < n;) {
    const uint32_t want = std::min<uint32_t>(n - start, IMB_MAX_BURST_SIZE);
    uint32_t got = IMB_GET_NEXT_BURST(mgr, want, jobs);
    if (got == 0) [[unlikely]] {  /* queue full of someone's jobs: drain it */
      IMB_FLUSH_BURST(mgr, IMB_MAX_BURST_SIZE, jobs);
      continue;
    }
    uint16_t end = static_cast<uint16_t>(start + want);
    uint32_t used = 0;  /* jobs filled */
    uint32_t prev_lo = 0;
    bool have_prev = false;
    for (uint16_t i = start; i < end; ++i) {
      PktView* p = pkts[i];
      std::byte* e;
      uint32_t el, ct = 0;
      uint64_t seq = 0;
      EspDrop d = EspDrop::kBadOuter;
      if (inb_outer(c, p, &e, &el)) [[likely]] {
        if (esn && el >= kEspHdrLen) {
          const uint32_t lo = load_be32(e + 4);
          if (have_prev && prev_lo - lo > 0x80000000u) {
            end = i;
            break;
          }
          prev_lo = lo;
          have_prev = true;
        }
        d = inb_esp(c, e, el, &ct, &seq);
      }
      if (d != EspDrop::kNone) [[unlikely]] {
        sc.drop[i] = static_cast<uint16_t>(d);
        sc.bad[i] = true;
        any_bad = true;
        continue;
      }
      if (used == got) [[unlikely]] {  /* fewer jobs than asked for: the rest next time */
        end = i;
        break;
      }
      sc.bad[i] = false;
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
      IMB_JOB* job = jobs[used++];
      job->cipher_mode = cmode;
      job->cipher_direction = IMB_DIR_DECRYPT;
      job->chain_order = IMB_ORDER_HASH_CIPHER;  /* the ICV covers the ciphertext */
      job->enc_keys = k->enc;
      job->dec_keys = k->dec;
      job->key_len_in_bytes = klen;
      job->src = eu;
      job->dst = eu + kEspHdrLen + iv_len;
      job->cipher_start_src_offset_in_bytes = kEspHdrLen + iv_len;
      job->msg_len_to_cipher_in_bytes = ct;
      job->iv = eu + kEspHdrLen;
      job->iv_len_in_bytes = iv_len;
      job->hash_alg = halg;
      job->hash_start_src_offset_in_bytes = 0;
      job->msg_len_to_hash_in_bytes = kEspHdrLen + iv_len + ct + (esn ? 4 : 0);
      job->auth_tag_output = sc.tag[i];
      job->auth_tag_output_len_in_bytes = icv_len;
      job->u.HMAC._hashed_auth_key_xor_ipad = k->ipad;
      job->u.HMAC._hashed_auth_key_xor_opad = k->opad;
      job->user_data = reinterpret_cast<void*>(uintptr_t{i});
    }
    /* Only the jobs filled go in (IMB_GET_NEXT_BURST reserves nothing). */
    if (used) {
      uint32_t left = used;
      uint32_t done = IMB_SUBMIT_BURST_NOCHECK(mgr, used, jobs);
      for (;;) {  /* completed jobs are at jobs[0..done) */
        for (uint32_t q = 0; q < done; ++q)
          if (jobs[q]->status != IMB_STATUS_COMPLETED) [[unlikely]] {
            crypto_failed(sc, jobs[q]);
            crypto_bad = true;
          }
        if (left -= done; left == 0) break;
        done = IMB_FLUSH_BURST(mgr, left, jobs);
      }
    }

    /* In packet order, so the window sees sequence numbers as sent. */
    for (uint16_t i = start; i < end; ++i) {
      if (sc.bad[i]) [[unlikely]] continue;
      const uint8_t* rx = esn ? sc.icv[i]
                              : reinterpret_cast<const uint8_t*>(sc.esp[i]) + kEspHdrLen +
                                    iv_len + sc.len[i];
      const EspDrop d = !esp_icv_equal(sc.tag[i], rx, icv_len)
                            ? EspDrop::kAuthFailed
                            : inb_finish(c, pkts[i], sc.esp[i], sc.len[i], sc.seq[i]);
      if (d != EspDrop::kNone) [[unlikely]] {
        sc.drop[i] = static_cast<uint16_t>(d);
        sc.bad[i] = true;
        any_bad = true;
      } else {
        bytes += pkts[i]->data_len;
      }
    }
    start = end;
  }
  return inb_done(*h.stats, sc, pkts, n, any_bad | crypto_bad, bytes);
}

}  // namespace

uint16_t esp_inb_process(EspEngine& eng, EspSa& sa, PktView** pkts, uint16_t n) noexcept {
  if (sa.impl()->hot.replay == nullptr) {  /* an outbound SA: grouped wrongly */
    for (uint16_t i = 0; i < n; ++i) pkts[i]->drop = static_cast<uint16_t>(EspDrop::kSpiMismatch);
    sa.impl()->stats.drops[static_cast<size_t>(EspDrop::kSpiMismatch)] += n;
    return 0;
  }
  const EspSaHot& h = sa.impl()->hot;
  if (h.cipher == EspCipher::kAesGcm) {
    if (n <= kMaxBurst) return inb_gcm(eng, h, pkts, n);
    return esp_in_chunks(pkts, n, [&](PktView** p, uint16_t c) { return inb_gcm(eng, h, p, c); });
  }
  if (n <= kMaxBurst) return inb_hmac(eng, h, pkts, n);
  return esp_in_chunks(pkts, n, [&](PktView** p, uint16_t c) { return inb_hmac(eng, h, p, c); });
}

}  // namespace mipvpn
