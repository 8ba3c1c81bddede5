/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the ESP engine: the SA's control record, the small cache-aligned
 * struct the workers read per packet, the key material, and the per-engine
 * burst scratch. Included by the engine's .cc files and by tests; the rest
 * of the product sees only crypto/esp.h.
 */
#pragma once

#include <intel-ipsec-mb.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>

#include "codec/pkt.h"
#include "crypto/esp.h"
#include "crypto/replay.h"

namespace mipvpn {

inline constexpr uint32_t kAesRoundKeysLen = 16 * 15;  /* AES-256 schedule, fits 128 */
inline constexpr uint32_t kEspMaxIcv = 16;
inline constexpr uint32_t kOuterTmplLen = 28;          /* IPv4 + UDP */
inline constexpr uint32_t kHdrTmplLen = 48;            /* outer + ESP header, zero-filled */

/* Expanded keys, computed once in EspSa::create, never per packet. */
struct alignas(64) EspKeys {
  gcm_key_data gcm;                                 /* AES-GCM: round keys + H powers */
  alignas(16) uint8_t enc[kAesRoundKeysLen];        /* AES-CBC encrypt schedule */
  alignas(16) uint8_t dec[kAesRoundKeysLen];        /* AES-CBC decrypt schedule */
  alignas(16) uint8_t iv_enc[kAesRoundKeysLen];     /* CBC IV key (outbound), see esp_outb.cc */
  alignas(16) uint8_t ipad[32];                     /* HMAC: H(K ^ ipad) state */
  alignas(16) uint8_t opad[32];                     /* HMAC: H(K ^ opad) state */
};

/*
 * What a worker reads for every packet of the SA, on one or two cache
 * lines, decided at creation (STYLE: "decide at setup"). The outbound
 * sequence counter lives on its own line: it is the only field written,
 * possibly from several lcores.
 */
struct alignas(64) EspSaHot {
  uint32_t spi = 0;
  be32 spi_be;
  EspCipher cipher = EspCipher::kNull;
  EspAuth auth = EspAuth::kNone;
  uint8_t key_len = 0;      /* AES key bytes: 16 or 32 */
  uint8_t iv_len = 0;
  uint8_t icv_len = 0;
  uint8_t align = 4;        /* max(block, 4): ciphertext alignment */
  bool esn = false;
  bool natt = false;
  uint8_t outer_len = 0;    /* 20, or 28 with the RFC 3948 UDP header */
  uint8_t hdr_len = 0;      /* outer + ESP header + IV */
  uint16_t natt_sport = 0;  /* inbound: the UDP ports this SA accepts too */
  uint16_t natt_dport = 0;
  uint8_t salt[4] = {};     /* GCM: RFC 4106 4, nonce = salt || IV */
  uint32_t outer_sum = 0;   /* RFC 1071 partial sum of the fixed outer fields */
  IMB_CIPHER_MODE imb_cipher = IMB_CIPHER_NULL;
  IMB_HASH_ALG imb_hash = IMB_AUTH_NULL;
  IMB_KEY_SIZE_BYTES imb_key_len = IMB_KEY_128_BYTES;
  uint16_t max_plen = 0;    /* outbound: largest encrypted part, 65535 - hdr_len - icv_len */
  uint8_t tmpl_off2 = 0;    /* outbound: outer_len - 8, see hdr_tmpl */
  /* Outbound: outer IPv4 [+ UDP] + SPI + zero sequence number, variable
   * fields 0, zero-filled to the end. Copied per packet as 16-byte blocks
   * at 0, at tmpl_off2 and (UDP) at 16: together they cover outer + 8
   * bytes and never pass hdr_len (28 at least, 36 with UDP). */
  alignas(16) uint8_t hdr_tmpl[kHdrTmplLen] = {};
  const EspKeys* keys = nullptr;
  EspSaStats* stats = nullptr;
  ReplayWindow* replay = nullptr;           /* inbound */

  alignas(64) std::atomic<uint64_t> seq{1};  /* outbound: next to send */
};

/* The control record of an SA. */
class EspSaImpl {
 public:
  EspSaHot hot;
  EspKeys keys;
  EspSaStats stats;
  EspSaConfig cfg;   /* spans in it are cleared: keys live only in `keys` */
  const EspSuite* suite = nullptr;
  EspDir dir = EspDir::kOutbound;
  std::unique_ptr<ReplayWindow> replay;
};

/*
 * The wire format of a suite, as compile-time constants: the burst
 * functions are instantiated once per format (and UDP encapsulation)
 * so that lengths and offsets are immediates, not loads. Formats:
 * GCM (4, 8, 16), CBC-SHA1 (16, 16, 12), CBC-SHA256 (16, 16, 16),
 * NULL-SHA1 (4, 0, 12), NULL-SHA256 (4, 0, 16).
 */
template <uint32_t Align, uint32_t Iv, uint32_t Icv, bool Natt = false>
struct EspFmt {
  static constexpr uint32_t kAlign = Align;  /* ciphertext alignment, max(block, 4) */
  static constexpr uint32_t kIv = Iv;
  static constexpr uint32_t kIcv = Icv;
  static constexpr bool kNatt = Natt;
  static constexpr bool kGcm = Iv == 8;
  static constexpr uint32_t kOuter = Natt ? 28 : 20;
  static constexpr uint32_t kHdr = kOuter + 8 + Iv;  /* outer + ESP header + IV */
  static constexpr uint32_t kMaxPlen = 65535 - kHdr - Icv;
};

/* Call f(EspFmt<...>{}) for the SA's format; false if it has none. */
template <bool WithNatt, class F>
inline bool esp_with_fmt(const EspSaHot& h, F&& f) noexcept {
  const uint32_t key = (uint32_t{h.align} << 16) | (uint32_t{h.iv_len} << 8) | h.icv_len;
  auto go = [&]<uint32_t A, uint32_t I, uint32_t C>() {
    if constexpr (WithNatt) {
      if (h.natt) {
        f(EspFmt<A, I, C, true>{});
        return;
      }
    }
    f(EspFmt<A, I, C, false>{});
  };
  switch (key) {
    case (4u << 16) | (8u << 8) | 16u: go.template operator()<4, 8, 16>(); return true;
    case (16u << 16) | (16u << 8) | 12u: go.template operator()<16, 16, 12>(); return true;
    case (16u << 16) | (16u << 8) | 16u: go.template operator()<16, 16, 16>(); return true;
    case (4u << 16) | (0u << 8) | 12u: go.template operator()<4, 0, 12>(); return true;
    case (4u << 16) | (0u << 8) | 16u: go.template operator()<4, 0, 16>(); return true;
    default: return false;
  }
}

/* Per-engine burst scratch, fixed size (STYLE: no allocation per burst). */
struct alignas(64) EspScratch {
  alignas(64) uint8_t iv_in[kMaxBurst][16];    /* CBC: counter blocks */
  alignas(64) uint8_t iv_out[kMaxBurst][16];   /* CBC: AES_ivkey(counter) */
  alignas(64) uint8_t icv[kMaxBurst][kEspMaxIcv];  /* inbound: ICV received */
  alignas(64) uint8_t tag[kMaxBurst][kEspMaxIcv];  /* inbound: ICV computed */
  uint64_t seq[kMaxBurst];       /* full 64-bit sequence numbers */
  std::byte* esp[kMaxBurst];     /* start of the ESP header */
  uint32_t len[kMaxBurst];       /* by packet: inner length (out), ciphertext (in) */
  uint32_t plen[kMaxBurst];      /* by slot: encrypted payload length */
  uint32_t csum[kMaxBurst];      /* outbound, by slot: outer checksum partial sum without the ID */
  uint16_t idx[kMaxBurst];       /* packets still in play, in order */
  uint16_t drop[kMaxBurst];
  bool bad[kMaxBurst];
};

/*
 * HMAC precompute (RFC 2104): the hash state after one block of
 * (K ^ ipad) and of (K ^ opad), as IPsec-MB's HMAC jobs take them. Keys
 * longer than the 64-byte block are hashed first. auth must be an HMAC.
 */
void esp_hmac_precompute(IMB_MGR* mgr, EspAuth auth, std::span<const uint8_t> key,
                         uint8_t ipad[32], uint8_t opad[32]) noexcept;

/* Constant-time equality of two ICVs of n bytes, 8 <= n <= 16. */
inline bool esp_icv_equal(const uint8_t* a, const uint8_t* b, uint32_t n) noexcept {
  uint64_t a0, b0, a1, b1;
  __builtin_memcpy(&a0, a, 8);
  __builtin_memcpy(&b0, b, 8);
  __builtin_memcpy(&a1, a + n - 8, 8);  /* overlaps the first word when n < 16 */
  __builtin_memcpy(&b1, b + n - 8, 8);
  return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/*
 * The HMAC jobs of one engine call in the lcore's IPsec-MB manager: filled
 * and submitted SA after SA, retired as the manager completes them, and
 * flushed once when the call has submitted all it has (IPsec-MB jobs carry
 * their own key pointers, so one submit/flush cycle covers the packets of
 * several SAs and the multi-buffer lanes stay full). A job that did not
 * complete marks its packet (user_data: its scratch index) kCryptoError.
 */
struct EspFlight {
  IMB_MGR* mgr;
  EspScratch& sc;
  uint32_t inflight = 0;  /* submitted, not yet returned */
  bool failed = false;    /* a job of this call failed */
  IMB_JOB* jobs[IMB_MAX_BURST_SIZE];

  explicit EspFlight(EspEngine& eng) noexcept : mgr(eng.mgr()), sc(eng.scratch()) {}
  EspFlight(const EspFlight&) = delete;
  EspFlight& operator=(const EspFlight&) = delete;

  /* Up to want (<= IMB_MAX_BURST_SIZE) free jobs at jobs[0..), at least one. */
  uint32_t get(uint32_t want) noexcept {
    for (;;) {
      const uint32_t got = IMB_GET_NEXT_BURST(mgr, want, jobs);
      if (got != 0) [[likely]] return got;
      if (inflight != 0) {
        flush();
      } else {  /* queue full of someone's jobs: drain it */
        IMB_FLUSH_BURST(mgr, IMB_MAX_BURST_SIZE, jobs);
      }
    }
  }
  /* Submit the first used jobs of jobs[]; those the manager completes now
   * are retired. */
  void submit(uint32_t used) noexcept {
    if (used == 0) return;
    const uint32_t done = IMB_SUBMIT_BURST_NOCHECK(mgr, used, jobs);
    inflight += used;
    retire(done);
  }
  /* Everything in flight to completion. */
  void flush() noexcept {
    while (inflight != 0) {
      const uint32_t done =
          IMB_FLUSH_BURST(mgr, std::min<uint32_t>(inflight, IMB_MAX_BURST_SIZE), jobs);
      if (done == 0) [[unlikely]] break;
      retire(done);
    }
  }
  ~EspFlight() { flush(); }

 private:
  void retire(uint32_t done) noexcept {  /* completed jobs are at jobs[0..done) */
    for (uint32_t q = 0; q < done; ++q)
      if (jobs[q]->status != IMB_STATUS_COMPLETED) [[unlikely]] fail(jobs[q]);
    inflight -= done;
  }
  [[gnu::cold, gnu::noinline]] void fail(const IMB_JOB* jb) noexcept {
    const uint16_t i = static_cast<uint16_t>(reinterpret_cast<uintptr_t>(jb->user_data));
    sc.bad[i] = true;
    sc.drop[i] = static_cast<uint16_t>(EspDrop::kCryptoError);
    failed = true;
  }
};

/* Run a multi-SA burst function over a burst longer than the scratch, in
 * chunks of kMaxBurst, keeping the burst contract. */
template <class Fn>
inline uint16_t esp_multi_in_chunks(EspSa* const* sa_of_pkt, PktView** pkts, uint16_t n,
                                    Fn&& burst) noexcept {
  uint16_t good = 0;
  for (uint16_t off = 0; off < n;) {
    const uint16_t c = static_cast<uint16_t>(std::min<uint32_t>(kMaxBurst, n - off));
    const uint16_t k = burst(sa_of_pkt + off, pkts + off, c);
    std::rotate(pkts + good, pkts + off, pkts + off + k);
    good = static_cast<uint16_t>(good + k);
    off = static_cast<uint16_t>(off + c);
  }
  return good;
}

/* A grouped burst longer than the scratch: one single-SA call per group,
 * keeping the burst contract over the whole burst. */
template <class Fn>
inline uint16_t esp_groups_one_by_one(EspSa* const* sas, const uint16_t* cnt, uint16_t ng,
                                      PktView** pkts, Fn&& one) noexcept {
  uint16_t good = 0;
  uint16_t off = 0;
  for (uint16_t g = 0; g < ng; ++g) {
    const uint16_t k = one(*sas[g], pkts + off, cnt[g]);
    std::rotate(pkts + good, pkts + off, pkts + off + k);
    good = static_cast<uint16_t>(good + k);
    off = static_cast<uint16_t>(off + cnt[g]);
  }
  return good;
}

/* Run a burst function over a burst longer than the scratch, in chunks of
 * kMaxBurst, keeping the burst contract: good packets first, in order. */
template <class Fn>
inline uint16_t esp_in_chunks(PktView** pkts, uint16_t n, Fn&& burst) noexcept {
  uint16_t good = 0;
  for (uint16_t off = 0; off < n;) {
    const uint16_t c = static_cast<uint16_t>(std::min<uint32_t>(kMaxBurst, n - off));
    const uint16_t k = burst(pkts + off, c);
    std::rotate(pkts + good, pkts + off, pkts + off + k);
    good = static_cast<uint16_t>(good + k);
    off = static_cast<uint16_t>(off + c);
  }
  return good;
}

/*
 * The multi-SA entry points of one direction, around its single-SA call
 * one(sa, pkts, n) and its grouped core groups(sas, cnt, ng, grouped
 * pkts) -> any packet refused (its bad flags in eng.scratch(), in grouped
 * order). Both keep the burst contract over the whole burst.
 */
template <class One, class Groups>
inline uint16_t esp_grouped(EspEngine& eng, EspSa* const* sas, const uint16_t* cnt, uint16_t ng,
                            PktView** pkts, uint16_t n, One&& one, Groups&& groups) noexcept {
  if (ng == 0) return 0;
  if (ng == 1) return one(*sas[0], pkts, n);
  if (n > kMaxBurst) [[unlikely]]  /* SA by SA, as one call each */
    return esp_groups_one_by_one(sas, cnt, ng, pkts, one);
  if (!groups(sas, cnt, ng, pkts)) [[likely]] return n;
  return move_bad_to_tail(pkts, n, eng.scratch().bad);
}

/* A mixed burst: split by SA (EspGroups), then as grouped; good packets
 * stay in arrival order. */
template <class One, class Groups>
inline uint16_t esp_multi(EspEngine& eng, EspSa* const* sa_of_pkt, PktView** pkts, uint16_t n, One&& one,
                          Groups&& groups) noexcept {
  auto burst = [&](EspSa* const* s, PktView** p, uint16_t c) -> uint16_t {
    EspGroups gr;
    const uint16_t ng = gr.split(s, p, c);
    if (ng <= 1) return ng == 0 ? 0 : one(*gr.sas[0], p, c);
    if (!groups(gr.sas, gr.cnt, ng, gr.grp)) [[likely]] return c;
    const EspScratch& sc = eng.scratch();
    bool bad[kMaxBurst];
    for (uint16_t i = 0; i < c; ++i) bad[i] = sc.bad[gr.pos[i]];
    return move_bad_to_tail(p, c, bad);
  };
  if (n <= kMaxBurst) return burst(sa_of_pkt, pkts, n);
  return esp_multi_in_chunks(sa_of_pkt, pkts, n, burst);
}

}  // namespace mipvpn
