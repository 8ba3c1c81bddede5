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
 * the burst job API. Instantiated per wire format (EspFmt). A burst of
 * several SAs (esp_inb_process_multi / _grouped) submits the jobs of every
 * SA before one flush, then verifies and updates each SA's window in its
 * packets' order; the windows are per SA, so nothing between SAs waits.
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

/* Counters, once per burst (one SA's packets pkts[0..n), scratch at
 * b + i); one writer per inbound SA. The refused get their drop reason. */
void inb_count(EspSaStats& st, const EspScratch& sc, PktView** pkts, uint16_t n, uint16_t b,
               bool any_bad, uint64_t bytes) noexcept {
  if (!any_bad) [[likely]] {
    st.packets += n;
    st.bytes += bytes;
    return;
  }
  uint64_t good = 0;
  for (uint16_t k = 0; k < n; ++k) {
    const uint16_t i = static_cast<uint16_t>(b + k);
    if (sc.bad[i]) {
      pkts[k]->drop = sc.drop[i];
      ++st.drops[sc.drop[i]];
    } else {
      ++good;
    }
  }
  st.packets += good;
  st.bytes += bytes;
}

/* What a burst of one SA has found so far. */
struct InbRes {  /* no initialisers: arrays of it are not cleared per call */
  uint64_t bytes;
  bool any_bad;
};

template <class F>
InbRes inb_gcm(EspEngine& eng, const EspSaHot& h, PktView** pkts, uint16_t n,
               uint16_t b) noexcept {
  EspScratch& sc = eng.scratch();
  IMB_MGR* mgr = eng.mgr();
  const InbCtx<F> c(h);
  const aes_gcm_enc_dec_t dec = h.key_len == 16 ? mgr->gcm128_dec : mgr->gcm256_dec;
  const gcm_key_data* key = &h.keys->gcm;
  bool any_bad = false;
  uint64_t bytes = 0;
  for (uint16_t k = 0; k < n; ++k) {
    PktView* p = pkts[k];
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
    const uint16_t i = static_cast<uint16_t>(b + k);
    const bool bad = d != EspDrop::kNone;
    sc.bad[i] = bad;
    if (bad) [[unlikely]] {
      sc.drop[i] = static_cast<uint16_t>(d);
      any_bad = true;
    } else {
      bytes += p->data_len;
    }
  }
  return InbRes{bytes, any_bad};
}

/*
 * CBC/NULL + HMAC, one piece of one SA's packets: from pkts[start], check
 * them (outer header, sizes, SPI, anti-replay against the window as it is
 * now) and fill and submit a job for each that passes; returns where the
 * piece ends. The jobs may still be in flight on return: inb_hmac_verify
 * takes the piece once q is flushed.
 *
 * The jobs of a piece are all checked against the window as it was
 * before the piece. With ESN that inference (RFC 4303 A2.2) can be
 * wrong for packets after a low-half wrap inside the burst (a window
 * that has not yet seen the pre-wrap packets takes 0, 1, ... for the
 * old subspace), so a piece ends where the low half wraps and the next
 * is checked after the window update of this one. Pieces also end at
 * IMB_MAX_BURST_SIZE packets, the burst API's limit, or where the
 * manager has no more free jobs.
 */
template <class F>
uint16_t inb_hmac_fill(const InbCtx<F>& c, const EspSaHot& h, EspScratch& sc, PktView** pkts,
                       uint16_t start, uint16_t n, uint16_t b, EspFlight& q,
                       InbRes& r) noexcept {
  const EspKeys* k = h.keys;
  const bool esn = c.esn;
  const uint32_t iv_len = c.iv_len;
  const uint32_t icv_len = c.icv_len;
  const IMB_CIPHER_MODE cmode = h.imb_cipher;
  const IMB_HASH_ALG halg = h.imb_hash;
  const IMB_KEY_SIZE_BYTES klen = h.imb_key_len;
  const uint32_t want = std::min<uint32_t>(n - start, IMB_MAX_BURST_SIZE);
  const uint32_t got = q.get(want);
  uint16_t end = static_cast<uint16_t>(start + want);
  uint32_t used = 0;  /* jobs filled */
  uint32_t prev_lo = 0;
  bool have_prev = false;
  for (uint16_t x = start; x < end; ++x) {
    PktView* p = pkts[x];
    const uint16_t i = static_cast<uint16_t>(b + x);
    std::byte* e;
    uint32_t el, ct = 0;
    uint64_t seq = 0;
    EspDrop d = EspDrop::kBadOuter;
    if (inb_outer(c, p, &e, &el)) [[likely]] {
      if (esn && el >= kEspHdrLen) {
        const uint32_t lo = load_be32(e + 4);
        if (have_prev && prev_lo - lo > 0x80000000u) {
          end = x;
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
      r.any_bad = true;
      continue;
    }
    if (used == got) [[unlikely]] {  /* fewer jobs than asked for: the rest next time */
      end = x;
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
    IMB_JOB* job = q.jobs[used++];
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
  q.submit(used);
  return end;
}

/* A piece's jobs done: ICV compare and inb_finish in packet order, so the
 * window sees sequence numbers as sent. */
template <class F>
void inb_hmac_verify(const InbCtx<F>& c, EspScratch& sc, PktView** pkts, uint16_t start,
                     uint16_t end, uint16_t b, InbRes& r) noexcept {
  for (uint16_t x = start; x < end; ++x) {
    const uint16_t i = static_cast<uint16_t>(b + x);
    if (sc.bad[i]) [[unlikely]] continue;
    const uint8_t* rx = c.esn ? sc.icv[i]
                              : reinterpret_cast<const uint8_t*>(sc.esp[i]) + kEspHdrLen +
                                    c.iv_len + sc.len[i];
    const EspDrop d = !esp_icv_equal(sc.tag[i], rx, c.icv_len)
                          ? EspDrop::kAuthFailed
                          : inb_finish(c, pkts[x], sc.esp[i], sc.len[i], sc.seq[i]);
    if (d != EspDrop::kNone) [[unlikely]] {
      sc.drop[i] = static_cast<uint16_t>(d);
      sc.bad[i] = true;
      r.any_bad = true;
    } else {
      r.bytes += pkts[x]->data_len;
    }
  }
}

/* The pieces of one SA's packets from start on, each flushed before the
 * next is checked. */
template <class F>
void inb_hmac_rest(EspEngine& eng, const EspSaHot& h, PktView** pkts, uint16_t start, uint16_t n,
                   uint16_t b, EspFlight& q, InbRes& r) noexcept {
  EspScratch& sc = eng.scratch();
  const InbCtx<F> c(h);
  while (start < n) {
    const uint16_t end = inb_hmac_fill(c, h, sc, pkts, start, n, b, q, r);
    q.flush();
    inb_hmac_verify(c, sc, pkts, start, end, b, r);
    start = end;
  }
}

/* One SA's burst (n <= kMaxBurst). */
template <class F>
uint16_t inb_burst(EspEngine& eng, const EspSaHot& h, PktView** pkts, uint16_t n) noexcept {
  InbRes r{};
  bool failed = false;
  if constexpr (F::kGcm) {
    r = inb_gcm<F>(eng, h, pkts, n, 0);
  } else {
    EspFlight q(eng);
    inb_hmac_rest<F>(eng, h, pkts, 0, n, 0, q, r);
    failed = q.failed;
  }
  inb_count(*h.stats, eng.scratch(), pkts, n, 0, r.any_bad | failed, r.bytes);
  if (!(r.any_bad | failed)) [[likely]] return n;
  return move_bad_to_tail(pkts, n, eng.scratch().bad);
}

/* Every packet of a group refused for one reason (an outbound SA, or a
 * format no suite has). */
[[gnu::cold, gnu::noinline]] void inb_refuse(EspSa& sa, EspScratch& sc, PktView** pkts, uint16_t n,
                                             uint16_t b, EspDrop d) noexcept {
  for (uint16_t k = 0; k < n; ++k) {
    pkts[k]->drop = static_cast<uint16_t>(d);
    sc.bad[b + k] = true;
  }
  sa.impl()->stats.drops[static_cast<size_t>(d)] += n;
}

/*
 * A grouped burst (n <= kMaxBurst): SA sas[g]'s packets are the cnt[g]
 * that follow those of sas[0..g). GCM SAs run as they come (the direct
 * API has nothing to flush). For the HMAC SAs, the first piece of each
 * (usually all its packets) is checked and its jobs submitted, SA after
 * SA; one flush; then each piece verified and its window updated in
 * packet order; what is left of an SA (an ESN wrap, a full manager) goes
 * on piece by piece as in the single-SA call. The windows are the SAs'
 * own, so the order between SAs changes nothing. On return the scratch's
 * bad[] is by position in pkts; false when no packet is bad.
 */
bool inb_groups(EspEngine& eng, EspSa* const* sas, const uint16_t* cnt, uint16_t ng,
                PktView** pkts) noexcept {
  EspScratch& sc = eng.scratch();
  InbRes res[kMaxBurst];
  uint16_t first_end[kMaxBurst];  /* HMAC: end of the first piece; 0: not an HMAC group */
  bool skip[kMaxBurst];
  bool failed;
  {
    EspFlight q(eng);
    uint16_t b = 0;
    for (uint16_t g = 0; g < ng; b = static_cast<uint16_t>(b + cnt[g++])) {
      EspSa& sa = *sas[g];
      PktView** gp = pkts + b;
      const uint16_t m = cnt[g];
      res[g] = InbRes{};
      first_end[g] = 0;
      skip[g] = true;
      if (sa.impl()->hot.replay == nullptr) [[unlikely]] {  /* an outbound SA: grouped wrongly */
        inb_refuse(sa, sc, gp, m, b, EspDrop::kSpiMismatch);
        continue;
      }
      const EspSaHot& h = sa.impl()->hot;
      skip[g] = !esp_with_fmt<false>(h, [&]<class F>(F) {
        if constexpr (F::kGcm) {
          res[g] = inb_gcm<F>(eng, h, gp, m, b);
        } else {
          const InbCtx<F> c(h);
          first_end[g] = inb_hmac_fill(c, h, sc, gp, 0, m, b, q, res[g]);
        }
      });
      if (skip[g]) [[unlikely]]  /* not one of the suites' formats: cannot happen */
        inb_refuse(sa, sc, gp, m, b, EspDrop::kCryptoError);
    }
    q.flush();
    b = 0;
    for (uint16_t g = 0; g < ng; b = static_cast<uint16_t>(b + cnt[g++])) {
      if (skip[g] || first_end[g] == 0) continue;
      const EspSaHot& h = sas[g]->impl()->hot;
      PktView** gp = pkts + b;
      const uint16_t m = cnt[g];
      esp_with_fmt<false>(h, [&]<class F>(F) {
        if constexpr (!F::kGcm) {
          inb_hmac_verify(InbCtx<F>(h), sc, gp, 0, first_end[g], b, res[g]);
          inb_hmac_rest<F>(eng, h, gp, first_end[g], m, b, q, res[g]);
        }
      });
    }
    failed = q.failed;
  }
  bool any_bad = failed;
  uint16_t b = 0;
  for (uint16_t g = 0; g < ng; b = static_cast<uint16_t>(b + cnt[g++])) {
    if (skip[g]) {
      any_bad = true;
      continue;
    }
    any_bad |= res[g].any_bad;
    inb_count(*sas[g]->impl()->hot.stats, sc, pkts + b, cnt[g], b, res[g].any_bad | failed,
              res[g].bytes);
  }
  return any_bad;
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
    auto burst = [&](PktView** p, uint16_t c) { return inb_burst<F>(eng, h, p, c); };
    good = n <= kMaxBurst ? burst(pkts, n) : esp_in_chunks(pkts, n, burst);
  });
  if (!known) [[unlikely]] {  /* not one of the suites' formats: cannot happen */
    for (uint16_t i = 0; i < n; ++i) pkts[i]->drop = static_cast<uint16_t>(EspDrop::kCryptoError);
    sa.impl()->stats.drops[static_cast<size_t>(EspDrop::kCryptoError)] += n;
  }
  return good;
}

uint16_t esp_inb_process_grouped(EspEngine& eng, EspSa* const* sas, const uint16_t* cnt,
                                 uint16_t ng, PktView** pkts, uint16_t n) noexcept {
  return esp_grouped(
      eng, sas, cnt, ng, pkts, n, [&](EspSa& sa, PktView** p, uint16_t c) { return esp_inb_process(eng, sa, p, c); },
      [&](EspSa* const* s, const uint16_t* k, uint16_t g, PktView** p) { return inb_groups(eng, s, k, g, p); });
}

uint16_t esp_inb_process_multi(EspEngine& eng, EspSa* const* sa_of_pkt, PktView** pkts,
                               uint16_t n) noexcept {
  return esp_multi(
      eng, sa_of_pkt, pkts, n, [&](EspSa& sa, PktView** p, uint16_t c) { return esp_inb_process(eng, sa, p, c); },
      [&](EspSa* const* s, const uint16_t* k, uint16_t g, PktView** p) { return inb_groups(eng, s, k, g, p); });
}

}  // namespace mipvpn
