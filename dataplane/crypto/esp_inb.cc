/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP inbound, tunnel mode, IPv4 (RFC 4303 3.4): outer IPv4 [/ UDP 4500]
 * / ESP in, the inner IPv4 packet out (the data window moves onto it).
 *
 * Order per packet, as RFC 4303 3.4.3 asks: outer header, SPI, anti-replay
 * check (cheap rejection, and the ESN high half for the ICV), ICV verify
 * (constant time), then the anti-replay window update, then the trailer
 * (padding, next header) and the inner header. AES-GCM runs through the
 * direct API packet by packet; CBC/NULL + HMAC as bursts of jobs through
 * the burst job API. Instantiated per wire format (EspFmt).
 */
#include <algorithm>
#include <cstring>

#include <immintrin.h>

#include "codec/esp.h"
#include "codec/ipv4.h"
#include "codec/udp.h"
#include "crypto/esp_sa.h"

namespace mipvpn {

namespace {

/* What the burst loop reads of the SA besides its format, in locals for
 * the burst. */
template <class F>
struct InbCtx {
  ReplayWindow& rw;
  static constexpr uint32_t iv_len = F::kIv, icv_len = F::kIcv, align = F::kAlign;
  static constexpr uint32_t fixed = kEspHdrLen + F::kIv + F::kIcv;  /* ESP header + IV + ICV */
  uint32_t spi_be;
  uint16_t natt_sport, natt_dport;
  bool esn;
  explicit InbCtx(const EspSaHot& hh) noexcept
      : rw(*hh.replay), spi_be(0), natt_sport(hh.natt_sport), natt_dport(hh.natt_dport),
        esn(hh.esn) {
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
template <class C>
inline bool inb_outer(const C& c, const PktView* p, std::byte** esp, uint32_t* esp_len) noexcept {
  const uint32_t len = p->data_len;
  std::byte* d = p->data();
  if (len < kIpv4HdrLen) [[unlikely]] return false;
  uint64_t q0, q1;
  uint32_t w4;
  std::memcpy(&q0, d, 8);
  std::memcpy(&q1, d + 8, 8);
  std::memcpy(&w4, d + 16, 4);
  const uint32_t vihl = static_cast<uint32_t>(q0) & 0xff;
  const uint32_t tl = load_be16(d + 2);
  uint32_t hl = kIpv4HdrLen;
  /* The usual header: version 4, IHL 5, not a fragment (bytes 6-7: MF
   * and the offset 0), and its checksum. The one's complement sum of a
   * correct header is all ones, i.e. the plain sum of its 16-bit words
   * is a non-zero multiple of 65535; as 2^16 = 1 mod 65535 the sum of
   * its 32-bit words is too (and is non-zero: version 4). */
  const uint64_t sum = (q0 & 0xffffffffu) + (q0 >> 32) + (q1 & 0xffffffffu) + (q1 >> 32) + w4;
  /* sum % 65535 == 0, as one multiplication: x is a multiple of the odd
   * d iff x * d^-1 mod 2^64 <= (2^64 - 1) / d. */
  constexpr uint64_t kInv65535 = 0xfffefffefffeffffull, kMax65535 = 0x1000100010001ull;
  static_assert(kInv65535 * 65535u == 1 && kMax65535 == ~uint64_t{0} / 65535);
  const bool ok = (vihl == 0x45) & (tl <= len) & (tl >= kIpv4HdrLen) &
                  ((q0 & 0xff3f000000000000ull) == 0) & (sum * kInv65535 <= kMax65535);
  if (!ok) [[unlikely]] {
    /* with options, or refused */
    hl = (vihl & 15) * 4;
    if ((vihl >> 4) != 4 || hl < kIpv4HdrLen || hl > tl || tl > len || (q0 & 0xff3f000000000000ull))
      return false;
    if (csum_fold(csum_partial(cbytes(d, hl))) != 0) return false;
  }
  const uint32_t proto = static_cast<uint32_t>(q1 >> 8) & 0xff;
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
template <class C>
inline EspDrop inb_esp(const C& c, const std::byte* e, uint32_t el, uint32_t* ct_len,
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
template <class C>
inline EspDrop inb_finish(const C& c, PktView* p, std::byte* e, uint32_t ct,
                          uint64_t seq) noexcept {
  /* RFC 4303 3.4.3: the window moves only for authentic packets; the
   * update re-checks, so a duplicate later in the same burst is caught. */
  switch (c.rw.update(seq)) {
    case ReplayVerdict::kOk: break;
    case ReplayVerdict::kReplayed: return EspDrop::kReplayed;
    case ReplayVerdict::kTooOld: return EspDrop::kTooOld;
  }
  std::byte* plain = e + kEspHdrLen + c.iv_len;
  /* RFC 4303 2.4-2.6: Padding 1, 2, ..., Pad Length, Next Header. Pads of
   * up to 16 bytes behind at least 16 bytes (all that CBC and GCM senders
   * produce): one 16-byte compare against the expected tail, masked. */
  uint16_t tr;
  std::memcpy(&tr, plain + ct - 2, 2);
  uint32_t pad_len = tr & 0xff;
  const uint32_t next = tr >> 8;
  uint32_t avail;
  if (ct >= 16 + kEspTrailerLen && pad_len <= 16) [[likely]] {
    const __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(plain + ct - 18));
    const auto* tail = detail::kEspPadTail.data() + pad_len;
    const auto* mask = detail::kEspPadMask.data() + pad_len;
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(tail));
    const __m128i m = _mm_loadu_si128(reinterpret_cast<const __m128i*>(mask));
    if (!_mm_testz_si128(_mm_xor_si128(w, x), m)) [[unlikely]] return EspDrop::kBadPadding;
    avail = ct - kEspTrailerLen - pad_len;
  } else {
    const auto t = esp_trailer_parse(cbytes(plain, ct));
    if (!t) [[unlikely]]
      return t.error() == CodecError::kBadPadding ? EspDrop::kBadPadding : EspDrop::kBadPadLength;
    avail = t->payload_len;
  }
  if (next != kEspNextIpv4) [[unlikely]]
    return next == kEspNextNone ? EspDrop::kDummy : EspDrop::kBadNextHeader;
  /* The inner IPv4 header (RFC 4301 5.1.2: tunnel mode carries a whole
   * datagram). Bytes between its total length and the padding are TFC
   * padding (RFC 4303 2.7) and are dropped with the trailer. Its checksum
   * is covered by the ICV; the forwarding stage checks it as a router.
   * (Its first 4 bytes are there to read: ct >= 4. Fewer than 20 bytes
   * of payload fail tl >= IHL * 4 >= 20 and tl <= avail.) */
  uint32_t w0;
  std::memcpy(&w0, plain, 4);
  const uint32_t vihl = w0 & 0xff;
  const uint32_t tl = load_be16(plain + 2);
  const bool ok = (vihl - 0x45u < 11u) & (tl >= (vihl & 15) * 4) & (tl <= avail);
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

template <class F>
uint16_t inb_gcm(EspEngine& eng, const EspSaHot& h, PktView** pkts, uint16_t n) noexcept {
  EspScratch& sc = eng.scratch();
  IMB_MGR* mgr = eng.mgr();
  const InbCtx<F> c(h);
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

template <class F>
uint16_t inb_hmac(EspEngine& eng, const EspSaHot& h, PktView** pkts, uint16_t n) noexcept {
  EspScratch& sc = eng.scratch();
  IMB_MGR* mgr = eng.mgr();
  const InbCtx<F> c(h);
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
  uint16_t good = 0;
  const bool known = esp_with_fmt<false>(h, [&]<class F>(F) {
    auto burst = [&](PktView** p, uint16_t c) {
      if constexpr (F::kGcm)
        return inb_gcm<F>(eng, h, p, c);
      else
        return inb_hmac<F>(eng, h, p, c);
    };
    good = n <= kMaxBurst ? burst(pkts, n) : esp_in_chunks(pkts, n, burst);
  });
  if (!known) [[unlikely]] {  /* not one of the suites' formats: cannot happen */
    for (uint16_t i = 0; i < n; ++i) pkts[i]->drop = static_cast<uint16_t>(EspDrop::kCryptoError);
    sa.impl()->stats.drops[static_cast<size_t>(EspDrop::kCryptoError)] += n;
  }
  return good;
}

}  // namespace mipvpn
