/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP outbound, tunnel mode, IPv4 (RFC 4303 3.1.2, 3.3): inner IPv4
 * packet in, outer IPv4 [/ UDP 4500] / ESP / IV / ciphertext / ICV out.
 *
 * Per burst: (1) check every inner packet and its room, and frame the
 * good ones as far as the sequence number allows (trailer, outer header
 * from the SA's template but for ID and checksum, ESP header but for the
 * number), (2) reserve their sequence numbers with one atomic add, (3)
 * write ID, checksum, sequence number and IV, (4) crypto: AES-GCM through
 * IPsec-MB's direct API one packet after the other (the cheapest path for
 * GCM), AES-CBC/NULL + HMAC through the burst job API with the whole burst
 * in flight (multi-buffer SHA needs many lanes busy), then (5) counters,
 * written once. The burst function is instantiated per wire format
 * (EspFmt), so lengths and offsets are constants. A burst of several SAs
 * (esp_outb_process_multi / _grouped) runs (1) to (4) SA after SA, each
 * with its own instantiation and its own atomic add, with the HMAC jobs
 * of every SA in flight together: one flush per call, then (5) per SA.
 */
#include <algorithm>
#include <atomic>
#include <cstring>

#include <immintrin.h>

#include "codec/esp.h"
#include "codec/ipv4.h"
#include "codec/udp.h"
#include "crypto/esp_sa.h"

namespace mipvpn {

namespace {

/* Why outb_frame refused a packet, or kNone for one it takes (cold: for
 * the refused, and for packets past the sequence number space). */
[[gnu::cold, gnu::noinline]] EspDrop outb_why(const EspSaHot& h, const PktView* p) noexcept {
  if (p->data_len < kIpv4HdrLen) return EspDrop::kNotIpv4;
  const std::byte* d = p->data();
  const uint32_t vihl = std::to_integer<uint32_t>(d[0]);
  const uint32_t tl = load_be16(d + 2);
  if ((vihl >> 4) != 4 || (vihl & 15) < 5 || tl < (vihl & 15) * 4 || tl > p->data_len)
    return EspDrop::kNotIpv4;
  const uint32_t plen = tl + esp_pad_len(tl, h.align) + kEspTrailerLen;
  if (plen > h.max_plen) return EspDrop::kTooBig;
  if (p->data_off < h.hdr_len || p->buf_len - p->data_off < plen + h.icv_len)
    return EspDrop::kNoRoom;
  return EspDrop::kNone;
}

/* What the framing reads of the SA besides its format, copied into
 * locals once per burst (stores into packet bytes may alias the SA, so
 * reading it through the reference would reload it after each). */
template <class F>
struct OutbCtx {
  uint32_t outer_sum;
  __m128i t0, t1, t2;       /* the template at 0, at kOuter - 8, at 16 */
  explicit OutbCtx(const EspSaHot& h) noexcept : outer_sum(h.outer_sum) {
    t0 = _mm_load_si128(reinterpret_cast<const __m128i*>(h.hdr_tmpl));
    t1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h.hdr_tmpl + F::kOuter - 8));
    t2 = _mm_load_si128(reinterpret_cast<const __m128i*>(h.hdr_tmpl + 16));
  }
};

/*
 * An inner packet we can carry: IPv4, sane IHL and total length, and room
 * around it for the headers and the trailer; judged with one branch
 * (outb_why tells the reason of a refusal). Then everything that does not
 * depend on the sequence number: the trailer, the outer header but for
 * its ID and checksum, the ESP header but for the sequence number; the
 * data window moves to the outer header. Returns the ESP header, or
 * nullptr for a refused packet. *inner_len gets the IPv4 total length
 * (bytes past it, e.g. Ethernet padding, are dropped), *plen_out the
 * encrypted part's length and *csum_out the outer header's partial
 * checksum without the ID (outb_seq finishes both). RFC 4301 5.1.2.1: the
 * outer header's DSCP and ECN are copied from the inner one (the whole
 * TOS byte), DF too.
 */
template <class F>
inline std::byte* outb_frame(const OutbCtx<F>& c, PktView* p, uint32_t* inner_len,
                             uint32_t* plen_out, uint32_t* csum_out) noexcept {
  const uint32_t dl = p->data_len;
  const uint32_t off = p->data_off;
  if (dl < kIpv4HdrLen) [[unlikely]] return nullptr;
  std::byte* inner = p->buf + off;
  uint64_t iw;
  std::memcpy(&iw, inner, 8);
  const uint32_t vihl = static_cast<uint32_t>(iw) & 0xff;
  const uint32_t tl = load_be16(inner + 2);  /* one MOVBE */
  const uint32_t plen = (tl + kEspTrailerLen + F::kAlign - 1) & ~(F::kAlign - 1);
  const bool ok = (vihl - 0x45u < 11u) /* version 4, IHL >= 5 */ & (tl >= (vihl & 15) * 4) &
                  (tl <= dl) & (plen <= F::kMaxPlen) & (off >= F::kHdr) &
                  (p->buf_len - off >= plen + F::kIcv);
  if (!ok) [[unlikely]] return nullptr;

  const uint32_t pad = plen - tl - kEspTrailerLen;  /* < 16 */
  const uint32_t total = F::kHdr + plen + F::kIcv;

  /* RFC 4303 2.4-2.6: Padding 1, 2, 3, ..., Pad Length, Next Header 4.
   * The pattern goes out in 8-byte stores (the bytes past the trailer
   * land where the ICV goes, which the check made room for: pad + 2 + ICV
   * >= 14 and, when the second store is needed, pad >= 7), then the two
   * trailer bytes over it. */
  std::byte* t = inner + tl;
  std::memcpy(t, kEspDefaultPad.data(), 8);
  if (pad > 6) std::memcpy(t + 8, kEspDefaultPad.data() + 8, 8);
  const uint16_t trailer = static_cast<uint16_t>(pad | (kEspNextIpv4 << 8));
  std::memcpy(t + pad, &trailer, 2);

  /* Outer header: the template, then its first 8 bytes (version/IHL,
   * TOS, total length, ID 0, flags) in one store. */
  const uint64_t tos = iw & 0xff00;
  const uint64_t df = iw & (uint64_t{0x40} << 48);  /* DF bit of the flags byte */
  std::byte* o = inner - F::kHdr;
  _mm_storeu_si128(reinterpret_cast<__m128i*>(o), c.t0);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(o + F::kOuter - 8), c.t1);
  /* 0x45 as in the template; total < 2^16, so bswap32 puts it big-endian in bytes 2-3 */
  const uint64_t w = 0x45 | tos | uint64_t{__builtin_bswap32(total)} | df;
  std::memcpy(o, &w, 8);
  if constexpr (F::kNatt) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 16), c.t2);
    store_be16(o + kIpv4HdrLen + 4, static_cast<uint16_t>(total - kIpv4HdrLen));
  }
  p->data_off = off - F::kHdr;
  p->data_len = total;
  *inner_len = tl;
  *plen_out = plen;
  *csum_out = c.outer_sum + static_cast<uint32_t>(tos >> 8) + total +
              static_cast<uint32_t>(df >> 48 << 8);
  return o + F::kOuter;  /* SPI from the template */
}

/* The sequence number's part: the outer ID (from the SA's counter: unique
 * per SA for 2^16 packets, which is all RFC 6864 asks of atomic
 * datagrams), the outer checksum, the ESP sequence number (RFC 4303 2.2:
 * the low 32 bits only). */
inline void outb_seq(uint32_t outer_len, std::byte* e, uint32_t csum, uint64_t s) noexcept {
  std::byte* o = e - outer_len;
  const uint32_t id = static_cast<uint16_t>(s);
  store_be16(o + 4, static_cast<uint16_t>(id));
  store_be16(o + 10, csum_fold(csum + id));
  store_be32(e + 4, static_cast<uint32_t>(s));
}

#if defined(__AES__)
/*
 * CBC IVs, RFC 3602 2.4 / RFC 4303 3.3.2: unpredictable and never
 * repeated. IV = AES-ECB under a random per-SA IV key (drawn from
 * getrandom at SA creation, independent of the data key) of the 64-bit
 * sequence number (big-endian, zero-extended to a block): distinct because
 * the sequence number never repeats within an SA and AES is a permutation;
 * unpredictable to anyone without the IV key (an adversary who sees
 * earlier IVs learns nothing of the next, unlike a plain counter or the
 * last ciphertext block). This is SP 800-38A appendix C's "encrypt a
 * nonce" method with a separate key. One block per packet with AES-NI,
 * written straight into the packet: cheaper than a job.
 */
struct IvKey {
  __m128i rk[11];  /* AES-128 encryption schedule (IPsec-MB's layout is the standard one) */
  explicit IvKey(const uint8_t* sched) noexcept {
    for (int r = 0; r < 11; ++r)
      rk[r] = _mm_load_si128(reinterpret_cast<const __m128i*>(sched + 16 * r));
  }
  void write(std::byte* out, uint64_t s) const noexcept {
    const long long be = static_cast<long long>(__builtin_bswap64(s));
    __m128i b = _mm_xor_si128(_mm_cvtsi64_si128(be), rk[0]);
    for (int r = 1; r < 10; ++r) b = _mm_aesenc_si128(b, rk[r]);
    b = _mm_aesenclast_si128(b, rk[10]);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), b);
  }
};
#else
/* Without AES-NI in our build: the same IVs (see above) from one ECB job
 * per burst into sc.iv_out. false if the job failed. */
bool cbc_ivs_ecb(IMB_MGR* mgr, const EspKeys* k, EspScratch& sc, uint64_t s0, uint16_t b,
                 uint16_t m) noexcept {
  for (uint16_t j = 0; j < m; ++j) {
    std::memset(sc.iv_in[b + j], 0, 16);
    const uint64_t be = __builtin_bswap64(s0 + j);
    std::memcpy(sc.iv_in[b + j], &be, 8);
  }
  IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
  job->cipher_mode = IMB_CIPHER_ECB;
  job->cipher_direction = IMB_DIR_ENCRYPT;
  job->chain_order = IMB_ORDER_CIPHER_HASH;
  job->hash_alg = IMB_AUTH_NULL;
  job->enc_keys = k->iv_enc;
  job->dec_keys = k->iv_enc;
  job->key_len_in_bytes = IMB_KEY_128_BYTES;
  job->src = sc.iv_in[b];
  job->dst = sc.iv_out[b];
  job->cipher_start_src_offset_in_bytes = 0;
  job->msg_len_to_cipher_in_bytes = uint64_t{m} * 16;
  job->iv = nullptr;
  job->iv_len_in_bytes = 0;
  job->hash_start_src_offset_in_bytes = 0;
  job->msg_len_to_hash_in_bytes = 0;
  job->auth_tag_output = nullptr;
  job->auth_tag_output_len_in_bytes = 0;
  job = IMB_SUBMIT_JOB_NOCHECK(mgr);
  while (job == nullptr) job = IMB_FLUSH_JOB(mgr);
  return job->status == IMB_STATUS_COMPLETED;
}
#endif

/* AES-GCM (RFC 4106) for one framed packet: IV = the 64-bit sequence
 * number (4106 3.1: a counter is allowed, and it never repeats for an
 * SA); nonce = salt || IV (4106 4); AAD = SPI || seq, or SPI || seq_hi ||
 * seq_lo with ESN (4106 5). The ICV is written in place after the
 * ciphertext. */
inline void outb_gcm(aes_gcm_enc_dec_t enc, const EspSaHot& h, std::byte* e, uint32_t plen,
                     uint64_t s) noexcept {
  auto* eu = reinterpret_cast<uint8_t*>(e);
  const uint64_t sbe = __builtin_bswap64(s);
  std::memcpy(eu + kEspHdrLen, &sbe, 8);
  alignas(16) uint8_t nonce[16];
  std::memcpy(nonce, h.salt, 4);
  std::memcpy(nonce + 4, &sbe, 8);
  alignas(16) uint8_t aad_esn[12];
  const uint8_t* aad = eu;
  uint64_t aad_len = kEspHdrLen;
  if (h.esn) {
    std::memcpy(aad_esn, eu, 4);
    std::memcpy(aad_esn + 4, &sbe, 8);  /* seq_hi || seq_lo, both big-endian */
    aad = aad_esn;
    aad_len = 12;
  }
  uint8_t* payload = eu + kEspHdrLen + 8;
  gcm_context_data ctx;
  enc(&h.keys->gcm, &ctx, payload, payload, plen, nonce, aad, aad_len, payload + plen, 16);
}

/* Add a burst's counters to an SA that several lcores may share. */
inline void stats_add(uint64_t& field, uint64_t v) noexcept {
  if (v) std::atomic_ref<uint64_t>(field).fetch_add(v, std::memory_order_relaxed);
}

/* What outb_prepare leaves for outb_finish. */
struct OutbRes {  /* no initialisers: arrays of it are not cleared per call */
  uint64_t bytes;
  bool any_bad;
};

/*
 * Steps (1) to (4) for one SA's packets pkts[0..n), whose scratch entries
 * are at b + i (packet i) and b + j (slot j): the HMAC jobs go to q and
 * may still be in flight on return; outb_finish counts once q is flushed.
 */
template <class F>
OutbRes outb_prepare(EspEngine& eng, EspSaHot& h, PktView** pkts, uint16_t n, uint16_t b,
                     EspFlight& q) noexcept {
  EspScratch& sc = eng.scratch();
  [[maybe_unused]] IMB_MGR* mgr = eng.mgr();

  /*
   * (1) checks, and the framing that does not depend on the sequence
   * number. Without ESN the counter must not cycle past 2^32 - 1 (RFC
   * 4303 3.3.3): the counter's present value bounds how many of the good
   * packets can have a number (it only grows), and those past the bound
   * are refused unframed. (With ESN the 64-bit space does not run out
   * in practice.)
   */
  const uint64_t hint = h.seq.load(std::memory_order_relaxed);
  const uint32_t room = h.esn ? kMaxBurst
                              : static_cast<uint32_t>(std::min<uint64_t>(
                                    kMaxBurst, hint > 0xffffffffull ? 0 : 0x100000000ull - hint));
  const OutbCtx<F> c(h);
  uint16_t m = 0;
  bool any_bad = false;
  uint64_t bytes = 0;
  uint32_t* const plen_b = sc.plen + b;
  uint32_t* const csum_b = sc.csum + b;
  std::byte** const esp_b = sc.esp + b;
  uint16_t* const idx_b = sc.idx + b;
  for (uint16_t k = 0; k < n; ++k) {
    PktView* p = pkts[k];
    const uint16_t i = static_cast<uint16_t>(b + k);
    if (m >= room) [[unlikely]] {
      if (outb_why(h, p) == EspDrop::kNone) {  /* a good packet without a number */
        sc.bad[i] = true;
        sc.drop[i] = static_cast<uint16_t>(EspDrop::kSeqOverflow);
        sc.len[i] = 0;
        any_bad = true;
        idx_b[m++] = i;
        continue;
      }
    }
    uint32_t len;
    std::byte* e = outb_frame(c, p, &len, &plen_b[m], &csum_b[m]);
    if (e) [[likely]] {
      sc.len[i] = len;
      sc.bad[i] = false;
      esp_b[m] = e;
      idx_b[m++] = i;
      bytes += len;
    } else {
      sc.len[i] = 0;
      sc.bad[i] = true;
      sc.drop[i] = static_cast<uint16_t>(outb_why(h, p));
      any_bad = true;
    }
  }

  /* (2) RFC 4303 3.3.3: one atomic add reserves the numbers of the good
   * packets (those refused for overflow included, as they always were). */
  const uint64_t s0 = m ? h.seq.fetch_add(m, std::memory_order_relaxed) : 0;
  uint16_t m_ok = std::min<uint16_t>(m, static_cast<uint16_t>(room));
  if (!h.esn && m_ok && s0 + m_ok - 1 > 0xffffffffull) [[unlikely]] {
    /* Other lcores took numbers since the hint: fewer fit. These packets
     * were framed; refused all the same. */
    const uint16_t fit = s0 > 0xffffffffull ? 0 : static_cast<uint16_t>(0x100000000ull - s0);
    for (uint16_t j = fit; j < m_ok; ++j) {
      const uint16_t i = idx_b[j];
      sc.bad[i] = true;
      sc.drop[i] = static_cast<uint16_t>(EspDrop::kSeqOverflow);
      bytes -= sc.len[i];
    }
    any_bad = true;
    m_ok = fit;
  }

  /* (3) the sequence number's fields, and (4) crypto */
  if constexpr (F::kGcm) {
    const aes_gcm_enc_dec_t enc = h.key_len == 16 ? mgr->gcm128_enc : mgr->gcm256_enc;
    for (uint16_t j = 0; j < m_ok; ++j) {
      const uint64_t s = s0 + j;
      std::byte* e = esp_b[j];
      outb_seq(F::kOuter, e, csum_b[j], s);
      outb_gcm(enc, h, e, plen_b[j], s);
    }
  } else {
    constexpr uint32_t iv_len = F::kIv;
#if defined(__AES__)
    const IvKey ivk(h.keys->iv_enc);
#else
    if (iv_len && m_ok) q.flush();  /* the job API below must not retire our burst jobs */
    if (iv_len && m_ok && !cbc_ivs_ecb(mgr, h.keys, sc, s0, b, m_ok)) [[unlikely]] {
      /* Never seen; refuse the burst rather than send a bad IV. */
      for (uint16_t j = 0; j < m_ok; ++j) {
        sc.bad[idx_b[j]] = true;
        sc.drop[idx_b[j]] = static_cast<uint16_t>(EspDrop::kCryptoError);
      }
      any_bad = true;
      m_ok = 0;
    }
#endif
    const EspKeys* k = h.keys;
    constexpr uint32_t icv_len = F::kIcv;
    const uint32_t esn_extra = h.esn ? 4 : 0;
    const IMB_CIPHER_MODE cmode = h.imb_cipher;
    const IMB_HASH_ALG halg = h.imb_hash;
    const IMB_KEY_SIZE_BYTES klen = h.imb_key_len;
    /* The burst job API, up to IMB_MAX_BURST_SIZE jobs at a time, the
     * whole lot in flight (multi-buffer SHA needs many lanes busy): the
     * caller flushes once for all the SAs of its call. */
    for (uint16_t j0 = 0; j0 < m_ok;) {
      const uint32_t got = q.get(std::min<uint32_t>(m_ok - j0, IMB_MAX_BURST_SIZE));
      for (uint32_t r = 0; r < got; ++r) {
        const uint16_t j = static_cast<uint16_t>(j0 + r);
        const uint64_t s = s0 + j;
        std::byte* eb = esp_b[j];
        const uint32_t plen = plen_b[j];
        outb_seq(F::kOuter, eb, csum_b[j], s);
        uint8_t* e = reinterpret_cast<uint8_t*>(eb);
        uint8_t* icv = e + kEspHdrLen + iv_len + plen;
        if constexpr (iv_len != 0) {
#if defined(__AES__)
          ivk.write(eb + kEspHdrLen, s);
#else
          std::memcpy(e + kEspHdrLen, sc.iv_out[b + j], 16);
#endif
        }
        /* RFC 4303 2.2.1/3.3.2.1: with ESN the high half follows the
         * payload for the ICV computation only; the ICV then covers it. */
        if (esn_extra)
          store_be32(reinterpret_cast<std::byte*>(icv), static_cast<uint32_t>(s >> 32));
        IMB_JOB* job = q.jobs[r];
        job->cipher_mode = cmode;
        job->cipher_direction = IMB_DIR_ENCRYPT;
        job->chain_order = IMB_ORDER_CIPHER_HASH;
        job->enc_keys = k->enc;
        job->dec_keys = k->dec;
        job->key_len_in_bytes = klen;
        job->src = e;
        job->dst = e + kEspHdrLen + iv_len;
        job->cipher_start_src_offset_in_bytes = kEspHdrLen + iv_len;
        job->msg_len_to_cipher_in_bytes = plen;
        job->iv = e + kEspHdrLen;
        job->iv_len_in_bytes = iv_len;
        job->hash_alg = halg;
        job->hash_start_src_offset_in_bytes = 0;
        job->msg_len_to_hash_in_bytes = kEspHdrLen + iv_len + plen + esn_extra;
        job->auth_tag_output = icv;
        job->auth_tag_output_len_in_bytes = icv_len;
        job->u.HMAC._hashed_auth_key_xor_ipad = k->ipad;
        job->u.HMAC._hashed_auth_key_xor_opad = k->opad;
        job->user_data = reinterpret_cast<void*>(uintptr_t{idx_b[j]});
      }
      q.submit(got);
      j0 = static_cast<uint16_t>(j0 + got);
    }
  }
  return OutbRes{bytes, any_bad};
}

/* (5) counters, once per burst, when the SA's jobs are done (a job of
 * the call failed: `failed`); the refused get their drop reason. */
void outb_finish(EspSaStats& st, const EspScratch& sc, PktView** pkts, uint16_t n, uint16_t b,
                 OutbRes r, bool failed) noexcept {
  if (!(r.any_bad | failed)) [[likely]] {
    stats_add(st.packets, n);
    stats_add(st.bytes, r.bytes);
    return;
  }
  uint64_t good = 0, bytes = 0;
  uint64_t drops[static_cast<size_t>(EspDrop::kCount)] = {};
  for (uint16_t k = 0; k < n; ++k) {
    const uint16_t i = static_cast<uint16_t>(b + k);
    if (sc.bad[i]) {
      pkts[k]->drop = sc.drop[i];
      ++drops[sc.drop[i]];
    } else {
      ++good;
      bytes += sc.len[i];
    }
  }
  stats_add(st.packets, good);
  stats_add(st.bytes, bytes);
  for (size_t d = 1; d < static_cast<size_t>(EspDrop::kCount); ++d) stats_add(st.drops[d], drops[d]);
}

/* One SA's burst (n <= kMaxBurst). */
template <class F>
uint16_t outb_burst(EspEngine& eng, EspSaHot& h, PktView** pkts, uint16_t n) noexcept {
  EspFlight q(eng);
  const OutbRes r = outb_prepare<F>(eng, h, pkts, n, 0, q);
  q.flush();
  if (!(r.any_bad | q.failed)) [[likely]] {
    stats_add(h.stats->packets, n);
    stats_add(h.stats->bytes, r.bytes);
    return n;
  }
  outb_finish(*h.stats, eng.scratch(), pkts, n, 0, r, q.failed);
  return move_bad_to_tail(pkts, n, eng.scratch().bad);
}

/* Every packet of a group refused for one reason (an inbound SA, or a
 * format no suite has). */
[[gnu::cold, gnu::noinline]] void outb_refuse(EspSa& sa, EspScratch& sc, PktView** pkts, uint16_t n,
                                              uint16_t b, EspDrop d) noexcept {
  for (uint16_t k = 0; k < n; ++k) {
    pkts[k]->drop = static_cast<uint16_t>(d);
    sc.bad[b + k] = true;
  }
  stats_add(sa.impl()->stats.drops[static_cast<size_t>(d)], n);
}

/*
 * A grouped burst (n <= kMaxBurst): SA sas[g]'s packets are the cnt[g]
 * that follow those of sas[0..g). Each SA's packets are framed, numbered
 * (one atomic add per SA) and their jobs submitted, SA after SA, by the
 * SA's own instantiation; one flush; then each SA's counters. On return
 * the scratch's bad[] is by position in pkts; false when no packet is bad.
 */
bool outb_groups(EspEngine& eng, EspSa* const* sas, const uint16_t* cnt, uint16_t ng,
                 PktView** pkts) noexcept {
  EspScratch& sc = eng.scratch();
  OutbRes res[kMaxBurst];
  bool skip[kMaxBurst];
  EspFlight q(eng);
  uint16_t b = 0;
  for (uint16_t g = 0; g < ng; b = static_cast<uint16_t>(b + cnt[g++])) {
    EspSa& sa = *sas[g];
    PktView** gp = pkts + b;
    skip[g] = true;
    if (sa.impl()->hot.replay != nullptr) [[unlikely]] {  /* an inbound SA: grouped wrongly */
      outb_refuse(sa, sc, gp, cnt[g], b, EspDrop::kSpiMismatch);
      continue;
    }
    EspSaHot& h = sa.impl()->hot;
    skip[g] = !esp_with_fmt<true>(
        h, [&]<class F>(F) { res[g] = outb_prepare<F>(eng, h, gp, cnt[g], b, q); });
    if (skip[g]) [[unlikely]]  /* not one of the suites' formats: cannot happen */
      outb_refuse(sa, sc, gp, cnt[g], b, EspDrop::kCryptoError);
  }
  q.flush();
  bool any_bad = q.failed;
  b = 0;
  for (uint16_t g = 0; g < ng; b = static_cast<uint16_t>(b + cnt[g++])) {
    if (skip[g]) {
      any_bad = true;
      continue;
    }
    any_bad |= res[g].any_bad;
    outb_finish(*sas[g]->impl()->hot.stats, sc, pkts + b, cnt[g], b, res[g], q.failed);
  }
  return any_bad;
}

}  // namespace

uint16_t esp_outb_process(EspEngine& eng, EspSa& sa, PktView** pkts, uint16_t n) noexcept {
  if (sa.impl()->hot.replay != nullptr) {  /* an inbound SA: grouped wrongly */
    for (uint16_t i = 0; i < n; ++i) pkts[i]->drop = static_cast<uint16_t>(EspDrop::kSpiMismatch);
    stats_add(sa.impl()->stats.drops[static_cast<size_t>(EspDrop::kSpiMismatch)], n);
    return 0;
  }
  EspSaHot& h = sa.impl()->hot;
  uint16_t good = 0;
  const bool known = esp_with_fmt<true>(h, [&]<class F>(F) {
    if (n <= kMaxBurst)
      good = outb_burst<F>(eng, h, pkts, n);
    else
      good = esp_in_chunks(pkts, n,
                           [&](PktView** p, uint16_t c) { return outb_burst<F>(eng, h, p, c); });
  });
  if (!known) [[unlikely]] {  /* not one of the suites' formats: cannot happen */
    for (uint16_t i = 0; i < n; ++i) pkts[i]->drop = static_cast<uint16_t>(EspDrop::kCryptoError);
    stats_add(sa.impl()->stats.drops[static_cast<size_t>(EspDrop::kCryptoError)], n);
  }
  return good;
}

uint16_t esp_outb_process_grouped(EspEngine& eng, EspSa* const* sas, const uint16_t* cnt,
                                  uint16_t ng, PktView** pkts, uint16_t n) noexcept {
  return esp_grouped(
      eng, sas, cnt, ng, pkts, n, [&](EspSa& sa, PktView** p, uint16_t c) { return esp_outb_process(eng, sa, p, c); },
      [&](EspSa* const* s, const uint16_t* k, uint16_t g, PktView** p) { return outb_groups(eng, s, k, g, p); });
}

uint16_t esp_outb_process_multi(EspEngine& eng, EspSa* const* sa_of_pkt, PktView** pkts,
                                uint16_t n) noexcept {
  return esp_multi(
      eng, sa_of_pkt, pkts, n, [&](EspSa& sa, PktView** p, uint16_t c) { return esp_outb_process(eng, sa, p, c); },
      [&](EspSa* const* s, const uint16_t* k, uint16_t g, PktView** p) { return outb_groups(eng, s, k, g, p); });
}

}  // namespace mipvpn
