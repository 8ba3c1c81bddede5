/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP tunnel mode (RFC 4303) over Intel IPsec-MB: the SA runtime and the
 * burst functions the workers call.
 *
 * Suites: AES-GCM-128/256 (RFC 4106: 8-byte IV, 16-byte ICV), AES-CBC-128/256
 * (RFC 3602) with HMAC-SHA1-96 (RFC 2404) or HMAC-SHA-256-128 (RFC 4868),
 * and NULL encryption (RFC 2410) with either HMAC, for measurement.
 * Optional RFC 3948 UDP encapsulation (port 4500). Anti-replay with
 * extended sequence numbers (RFC 4304) on inbound SAs.
 *
 * Threading: an EspEngine belongs to one lcore. An inbound SA is processed
 * by one lcore at a time (its replay window has one writer). An outbound
 * SA may be shared: sequence numbers are reserved per burst atomically.
 */
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "codec/ipv4_addr.h"
#include "codec/pkt.h"

struct IMB_MGR;

namespace mipvpn {

struct EspScratch;  /* per-engine burst scratch (crypto/esp_sa.h) */

enum class EspDir : uint8_t { kInbound, kOutbound };

enum class EspCipher : uint8_t { kNull, kAesCbc, kAesGcm };
enum class EspAuth : uint8_t { kNone /* AEAD */, kHmacSha1_96, kHmacSha256_128 };

/* A named cipher suite and its wire sizes. */
struct EspSuite {
  std::string_view name;  /* "aes-128-gcm", "aes-128-cbc-sha1", ... */
  EspCipher cipher;
  EspAuth auth;
  uint8_t key_len;        /* cipher key bytes (GCM: without the salt) */
  uint8_t salt_len;       /* GCM: 4 (RFC 4106 section 8.1), else 0 */
  uint8_t auth_key_len;   /* HMAC key bytes: 20 (SHA1), 32 (SHA-256), 0 */
  uint8_t iv_len;         /* on the wire: GCM 8, CBC 16, NULL 0 */
  uint8_t icv_len;        /* GCM 16, SHA1-96 12, SHA-256-128 16 */
  uint8_t block;          /* payload alignment: CBC 16, GCM/NULL 4 */
};

/* aes-128-gcm, aes-256-gcm, aes-128-cbc-sha1, aes-256-cbc-sha1,
 * aes-128-cbc-sha256, aes-256-cbc-sha256, null-sha1, null-sha256. */
const EspSuite* esp_suite_by_name(std::string_view name) noexcept;
std::span<const EspSuite> esp_suites() noexcept;

struct EspSaConfig {
  uint32_t spi = 0;               /* host order; 256..2^32-1 (RFC 4303 2.1) */
  EspDir dir = EspDir::kOutbound;
  const EspSuite* suite = nullptr;
  std::span<const uint8_t> cipher_key;  /* GCM: key || 4-byte salt */
  std::span<const uint8_t> auth_key;
  Ipv4Addr tun_src;               /* outer source (outbound) */
  Ipv4Addr tun_dst;               /* outer destination (outbound) */
  bool esn = false;               /* RFC 4304 extended sequence numbers */
  uint32_t replay_window = 64;    /* inbound: 0 off, else 64..4096 */
  uint16_t natt_sport = 0;        /* non-zero: RFC 3948 UDP encapsulation */
  uint16_t natt_dport = 0;
  uint8_t ttl = 64;               /* outer TTL */
  uint64_t seq_start = 1;         /* outbound: first sequence number sent */
};

/* Why the engine refused a packet; each is a per-SA counter. */
enum class EspDrop : uint16_t {
  kNone = 0,
  kBadOuter,       /* outer IPv4 / UDP header invalid */
  kTruncated,      /* shorter than ESP header + IV + ICV + trailer */
  kSpiMismatch,    /* SPI is not this SA's (caller grouped wrongly) */
  kBadAlignment,   /* ciphertext not a multiple of the cipher block */
  kAuthFailed,     /* ICV did not verify (wrong key, flipped bit) */
  kReplayed,       /* RFC 4303 3.4.3: duplicate */
  kTooOld,         /* RFC 4303 3.4.3: left of the window */
  kBadPadding,     /* pad bytes not 1, 2, 3, ... (RFC 4303 2.4) */
  kBadPadLength,   /* pad length exceeds payload */
  kBadNextHeader,  /* next header is not 4 (IPv4) */
  kDummy,          /* next header 59: dummy packet, dropped quietly (2.6) */
  kBadInner,       /* decrypted inner IPv4 packet invalid */
  kSeqOverflow,    /* outbound: sequence number space exhausted (3.3.3) */
  kNoRoom,         /* not enough head/tailroom for the ESP headers */
  kTooBig,         /* result would exceed 65535 bytes */
  kNotIpv4,        /* outbound: input is not an IPv4 packet */
  kCryptoError,    /* IPsec-MB returned an error status */
  kCount,
};
std::string_view to_string(EspDrop d) noexcept;

struct EspSaStats {
  uint64_t packets = 0;  /* good packets */
  uint64_t bytes = 0;    /* good bytes: inner packet length */
  uint64_t drops[static_cast<size_t>(EspDrop::kCount)] = {};
  uint64_t drop(EspDrop d) const noexcept { return drops[static_cast<size_t>(d)]; }
};

/* Per-lcore crypto context: one IPsec-MB manager, scratch space. */
class EspEngine {
 public:
  static std::unique_ptr<EspEngine> create(std::string* err);
  ~EspEngine();
  EspEngine(const EspEngine&) = delete;
  EspEngine& operator=(const EspEngine&) = delete;

  IMB_MGR* mgr() const noexcept { return mgr_; }
  std::string_view arch() const noexcept;  /* "avx512", "avx2", "sse", ... */
  /* The burst functions' fixed-size scratch (kMaxBurst entries). */
  EspScratch& scratch() noexcept { return *scratch_; }

 private:
  EspEngine() = default;
  IMB_MGR* mgr_ = nullptr;
  /* implementation-private state below */
  EspScratch* scratch_ = nullptr;  /* owned; 64-byte aligned */
  uint8_t arch_ = 0;               /* IMB_ARCH */
};

class EspSaImpl;

/* An SA as the workers use it. Create once; keys are expanded here. */
class EspSa {
 public:
  /* nullptr and a sentence in *err on a bad config (wrong key length,
   * SPI < 256, window out of range, ...). */
  static std::unique_ptr<EspSa> create(const EspSaConfig& cfg, std::string* err);
  ~EspSa();
  EspSa(const EspSa&) = delete;
  EspSa& operator=(const EspSa&) = delete;

  uint32_t spi() const noexcept;
  EspDir dir() const noexcept;
  const EspSuite& suite() const noexcept;
  const EspSaStats& stats() const noexcept;
  /* Outbound: the most bytes one packet grows by (outer IP [+UDP] + ESP
   * header + IV + max padding + trailer + ICV). */
  uint32_t max_overhead() const noexcept;
  /* Outbound: next sequence number to be sent (64 bits). */
  uint64_t next_seq() const noexcept;

  EspSaImpl* impl() noexcept { return impl_.get(); }

 private:
  explicit EspSa(std::unique_ptr<EspSaImpl> impl);
  std::unique_ptr<EspSaImpl> impl_;
};

/*
 * Outbound, tunnel mode: each packet is an inner IPv4 datagram at data();
 * on return the good ones are outer IPv4 [/ UDP 4500] / ESP / ... / ICV,
 * grown into the head- and tailroom. Burst contract as in pkt.h; drop
 * reasons are EspDrop values.
 */
uint16_t esp_outb_process(EspEngine& eng, EspSa& sa, PktView** pkts, uint16_t n) noexcept;

/*
 * Inbound, tunnel mode: each packet starts at the outer IPv4 header (ESP,
 * or UDP 4500 carrying ESP) and carries this SA's SPI. On return the good
 * ones are the inner IPv4 datagrams (data_off/data_len adjusted).
 */
uint16_t esp_inb_process(EspEngine& eng, EspSa& sa, PktView** pkts, uint16_t n) noexcept;

/*
 * Split a mixed burst by SA (for the multi-SA entry points below, and for
 * the ESP stages that hand the engine a burst grouped by SA): grp[] gets
 * the packets SA after SA (in order of first appearance), each SA's in
 * arrival order; pos[i] is packet i's place in grp; sas/off/cnt describe
 * the groups (off[g] .. off[g] + cnt[g] in grp). Returns the number of
 * groups. n <= kMaxBurst.
 */
struct EspGroups {
  EspSa* sas[kMaxBurst];
  uint16_t off[kMaxBurst];
  uint16_t cnt[kMaxBurst];
  uint16_t pos[kMaxBurst];
  PktView* grp[kMaxBurst];

  uint16_t split(EspSa* const* sa_of_pkt, PktView** pkts, uint16_t n) noexcept {
    uint16_t ng = 0;
    uint16_t gid[kMaxBurst];
    uint16_t last = 0;
    for (uint16_t i = 0; i < n; ++i) {
      EspSa* const sa = sa_of_pkt[i];
      uint16_t g = last;
      if (ng == 0 || sas[g] != sa) {  /* runs of one SA are the common case */
        for (g = 0; g < ng && sas[g] != sa; ++g) {
        }
        if (g == ng) {
          sas[ng] = sa;
          cnt[ng++] = 0;
        }
        last = g;
      }
      gid[i] = g;
      ++cnt[g];
    }
    uint16_t o = 0;
    for (uint16_t g = 0; g < ng; ++g) {
      off[g] = o;
      o = static_cast<uint16_t>(o + cnt[g]);
      cnt[g] = 0;
    }
    for (uint16_t i = 0; i < n; ++i) {
      const uint16_t g = gid[i];
      const uint16_t p = static_cast<uint16_t>(off[g] + cnt[g]++);
      pos[i] = p;
      grp[p] = pkts[i];
    }
    return ng;
  }
};

/*
 * The same for a burst whose packets belong to several SAs: packet i is
 * sa_of_pkt[i]'s. One engine call (one submit/flush cycle of the lcore's
 * IPsec-MB manager) covers them all, where one call per SA would flush
 * the multi-buffer manager once per SA. Every per-SA rule is kept: each
 * SA's packets are processed in arrival order by the SA's own format;
 * outbound sequence numbers are reserved per SA with one atomic add
 * (RFC 4303 3.3.3); inbound, each SA's anti-replay window is checked
 * before and updated after the ICV check (RFC 4303 3.4.3, ESN as in
 * esp_inb_process); counters and drop reasons are the SA's. The result is
 * what calling the single-SA function once per SA gives, byte for byte;
 * burst contract over the whole burst (good packets first, in arrival
 * order).
 */
uint16_t esp_outb_process_multi(EspEngine& eng, EspSa* const* sa_of_pkt, PktView** pkts,
                                uint16_t n) noexcept;
uint16_t esp_inb_process_multi(EspEngine& eng, EspSa* const* sa_of_pkt, PktView** pkts,
                               uint16_t n) noexcept;

/*
 * The same for a burst already grouped by SA (as a stage that splits its
 * group by SA has it): the first cnt[0] packets are sas[0]'s, the next
 * cnt[1] sas[1]'s, ... (ng groups, n packets in all, each SA once).
 * Burst contract over the whole burst, good packets in the given order.
 */
uint16_t esp_outb_process_grouped(EspEngine& eng, EspSa* const* sas, const uint16_t* cnt,
                                  uint16_t ng, PktView** pkts, uint16_t n) noexcept;
uint16_t esp_inb_process_grouped(EspEngine& eng, EspSa* const* sas, const uint16_t* cnt,
                                 uint16_t ng, PktView** pkts, uint16_t n) noexcept;

}  // namespace mipvpn
