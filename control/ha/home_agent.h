/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The home agent's registration processing (RFC 5944 3.8), for both roles
 * of RFC 5265: the external home agent (x-HA) and the internal one (i-HA)
 * are one class with different configuration.
 *
 *   HomeAgent ha(cfg);
 *   ha.add_mobile_node({.home = ..., .nai = "...", .sa = sa});
 *   HaVerdict v = ha.process_request(udp_payload, meta, reply_buf);
 *   if (v.reply) send(reply_buf.first(v.len)) to meta.src:meta.src_port;
 *   ha.expire(now);  // periodically
 *   readers: ha.bindings().lookup_bulk(...), ha.qsbr().quiescent(id)
 *
 * Order of processing (RFC 5944 3.8.2, RFC 5265 3.7 / 4.3):
 *   1  i-HA: IP source outside every trusted subnet -> silent drop, one
 *      rate-limited log line (source, home address, NAI). Nothing else is
 *      looked at first, and no reply ever (RFC 5265 4.3).
 *   2  x-HA with drop_from_internal: request arrived on an interface marked
 *      internal -> silent drop (RFC 5265 3.7), rate-limited log line.
 *   3  Fixed part: shorter than 24 bytes, not type 1, over 65535 -> silent
 *      drop (nothing to answer to).
 *   4  Extensions (RFC 5944 1.8): unknown non-skippable (0..127) -> silent
 *      discard; truncated inside an extension, bad length of a recognised
 *      one, or a duplicate -> 134.
 *   5  The mobile node's security association, by home address, else by
 *      NAI (RFC 2794): none -> 131 (unsigned: no key to sign with).
 *   6  Mobile-Home authentication (3.8.2.1 a): missing, SPI not the SA's,
 *      wrong -> 131.
 *   7  Identification (3.8.2.1 b, 5.7) -> 133 with the HA's time (or a new
 *      nonce) in the high half, per mip/replay.h.
 *   8  Home Agent field not one of our addresses -> 136, carrying our
 *      address (3.8.2.2 / 3.8.3.2).
 *   9  Policy: mobile node disabled by the operator -> 129; care-of
 *      address loopback, multicast or class E -> 128 (a refusal the
 *      code list has no better name for); T bit and reverse tunnelling off -> 137; reverse tunnelling
 *      mandatory and T clear -> 138; M or G (minimal / GRE encapsulation,
 *      which we do not do) -> 139 (RFC 3024 numbering); UDP tunnelling
 *      needed but declined by policy -> 129 with a UDP Tunnel Reply "declined";
 *      UDP Tunnel Request asking for an encapsulation other than IP-in-IP
 *      -> 142; care-of address 0 or equal to the home address with a
 *      non-zero lifetime -> 134.
 *  10  Binding: lifetime 0 removes the care-of address's binding, or every
 *      binding when the care-of address is the home address (3.8.3.1);
 *      otherwise create / renew with lifetime min(requested, max_lifetime).
 *      S clear replaces all bindings; S set adds (up to max_simultaneous,
 *      then 135); with max_simultaneous 1 the answer is 1 and the binding
 *      replaced. No room -> 130.
 * Replies after step 5 carry the Mobile-Home Authentication extension
 * computed with the mobile node's SA; an i-HA reply (every reply it sends
 * goes to a trusted source) carries TNC before it so it is covered
 * (RFC 5265 3.4, 4.3). An accepted request that asked for UDP tunnelling
 * and got it carries the UDP Tunnel Reply (RFC 3519 3.2) with the
 * keepalive interval.
 *
 * Encapsulation per binding (RFC 3519 4.x): UDP when the request carries
 * a UDP Tunnel Request (sub-type 0) and either its IP source differs from
 * the care-of address (a NAT on the path) or its F flag forces it; the
 * outer destination is then the request's source address and port.
 * IP-in-IP otherwise.
 *
 * Time is a parameter: meta.now_ntp (NTP 64-bit) for replay checks and
 * binding expiry; expire(now) removes what has run out. One thread calls
 * everything here except the readers' bindings() lookups.
 */
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "codec/endian.h"
#include "codec/ipv4_addr.h"
#include "ha/binding_table.h"
#include "ha/ha_log.h"
#include "mip/auth.h"
#include "mip/codes.h"
#include "mip/msg.h"
#include "mip/replay.h"
#include "qsbr.h"

namespace mipvpn {

enum class HaRole : uint8_t {
  kXha,  /* external home agent: any source */
  kIha,  /* internal home agent: trusted subnets only, replies carry TNC */
};

enum class HaUdpTunnelPolicy : uint8_t {
  kEnabled,      /* RFC 3519: tunnel over UDP when asked and needed */
  kDecline,      /* understood but refused: 129 + UDP Tunnel Reply "declined" */
  kUnsupported,  /* behave as a home agent without RFC 3519: skip the extension */
};

struct HaConfig {
  HaRole role = HaRole::kXha;
  std::vector<Ipv4Addr> addresses;     /* ours; the first goes into 136 replies */
  uint16_t max_lifetime = 1800;        /* seconds granted at most; 0xffff allows infinite */
  std::vector<Ipv4Prefix> trusted;     /* i-HA: empty by default = nothing trusted */
  bool drop_from_internal = false;     /* x-HA, RFC 5265 3.7 */
  uint8_t max_simultaneous = 4;        /* 1..Binding::kMaxCoa; 1 = S bit unsupported */
  bool reverse_tunnel = true;          /* RFC 3024 supported */
  bool reverse_tunnel_required = false;
  HaUdpTunnelPolicy udp_tunnel = HaUdpTunnelPolicy::kEnabled;
  uint16_t keepalive_s = 110;          /* RFC 3519 keepalive interval we ask for */
  uint32_t max_bindings = 1u << 22;    /* mobile nodes with bindings; more -> 130 */
  uint32_t log_rate_per_s = 1;         /* rate-limited log lines */
  uint32_t log_burst = 5;
  uint64_t nonce_seed = 0x9e3779b97f4a7c15ULL;  /* RFC 5944 5.7.2 nonces */
};

/* One mobile node we serve: its home address and / or NAI, and the SA. */
struct HaMobileNode {
  Ipv4Addr home;       /* 0: only by NAI (RFC 2794), no address to assign */
  std::string nai;     /* may be empty */
  MipSa sa;
  bool enabled = true; /* false: refused with 129 (administratively prohibited) */
};

/* What we know of the datagram that carried the request. */
struct RequestMeta {
  Ipv4Addr src;              /* IP source */
  uint16_t src_port = 0;     /* UDP source port */
  Ipv4Addr dst;              /* IP destination */
  bool internal_iface = false;  /* arrived on an interface marked internal */
  uint64_t now_ntp = 0;      /* the home agent's clock, NTP 64-bit */
};

/* Why a request got no reply. Each is a named counter. */
enum class HaDrop : uint8_t {
  kNone = 0,
  kUntrustedSource,      /* i-HA: source outside the trusted subnets (RFC 5265 4.3) */
  kInternalInterface,    /* x-HA: arrived on an internal interface (RFC 5265 3.7) */
  kTruncated,            /* shorter than a request's fixed part */
  kBadType,              /* not a Registration Request */
  kTooBig,               /* over 65535 bytes */
  kUnknownNonSkippable,  /* RFC 5944 1.8 */
  kNoRoom,               /* the reply buffer is too small */
  kCount,
};

constexpr std::string_view to_string(HaDrop d) noexcept {
  switch (d) {
    case HaDrop::kNone: return "none";
    case HaDrop::kUntrustedSource: return "untrusted_source";
    case HaDrop::kInternalInterface: return "internal_interface";
    case HaDrop::kTruncated: return "truncated";
    case HaDrop::kBadType: return "bad_type";
    case HaDrop::kTooBig: return "too_big";
    case HaDrop::kUnknownNonSkippable: return "unknown_non_skippable";
    case HaDrop::kNoRoom: return "no_room";
    case HaDrop::kCount: break;
  }
  return "unknown";
}

struct HaVerdict {
  bool reply = false;        /* send reply_out.first(len) to meta.src:meta.src_port */
  uint16_t len = 0;
  uint8_t code = 0;          /* the reply's code (MipReplyCode) */
  HaDrop drop = HaDrop::kNone;
};

/* Counters a user can read. */
struct HaCounters {
  std::array<uint64_t, static_cast<size_t>(HaDrop::kCount)> drops{};
  std::array<uint64_t, 256> replies{};  /* by reply code */
  uint64_t registered = 0;     /* bindings created or renewed */
  uint64_t deregistered = 0;   /* care-of addresses removed by a request */
  uint64_t expired = 0;        /* care-of addresses removed by expire() */
  uint64_t udp_tunnels = 0;    /* registrations given RFC 3519 UDP tunnelling */
  uint64_t drop(HaDrop d) const noexcept { return drops[static_cast<size_t>(d)]; }
  uint64_t reply(MipReplyCode c) const noexcept { return replies[static_cast<uint8_t>(c)]; }
};

class HomeAgent {
 public:
  /* Throws std::invalid_argument on a configuration a human must fix. */
  explicit HomeAgent(HaConfig cfg, uint32_t capacity_hint = 1024);
  ~HomeAgent();
  HomeAgent(const HomeAgent&) = delete;
  HomeAgent& operator=(const HomeAgent&) = delete;

  /* kOk, an SA error (mip_sa_check), kKeyEmpty when neither home address
   * nor NAI is given, kDuplicateExt when either is already configured. */
  MipError add_mobile_node(const HaMobileNode& mn);

  void set_log_sink(HaLogSink s) { log_.set_sink(std::move(s)); }

  /* One Registration Request (the UDP payload to port 434). */
  HaVerdict process_request(cbytes udp_payload, const RequestMeta& meta, bytes reply_out) noexcept;

  /* Remove care-of addresses whose lifetime ran out at now; returns how many. */
  size_t expire(uint64_t now_ntp) noexcept;

  /*
   * RFC 3519 keepalive (or tunnelled data) from a mobile node's UDP tunnel:
   * when the NAT's mapping moved (a new source address or port for the
   * same care-of address), the binding follows it. Returns false when the
   * mobile node has no UDP binding for care_of. Our reading, not RFC text.
   */
  bool keepalive(Ipv4Addr home, Ipv4Addr care_of, Ipv4Addr src, uint16_t src_port) noexcept;

  /*
   * An operator-made binding (mipvpnctl, no registration): home's
   * binding becomes this one care-of address, replacing any other.
   * lifetime_s 0: infinite (never expires); else it expires like a
   * registered one. e.care_of must not be 0 nor home; for IP-in-IP the
   * peer is the care-of address. Empty on success, else a sentence.
   */
  std::string add_operator_binding(Ipv4Addr home, BindingCoa e, uint32_t lifetime_s, uint64_t now_ntp);
  /* Remove home's binding (every care-of address); false if none. */
  bool remove_binding(Ipv4Addr home) noexcept;

  const BindingTable& bindings() const noexcept { return *table_; }
  BindingTable& bindings_mut() noexcept { return *table_; }
  Qsbr& qsbr() noexcept { return qsbr_; }
  /* Take the binding table's grace periods from g (e.g. rte_rcu_qsbr over
   * the workers; an empty g: this agent's own Qsbr readers again). Frees
   * what is retired first, so only when no reader holds a record: before
   * the readers start or after they stopped. */
  void set_grace_period(const QsbrGracePeriod& g) noexcept {
    rc_.drain();
    qsbr_.set_grace_period(g);
  }
  const HaCounters& counters() const noexcept { return ctr_; }
  const HaConfig& config() const noexcept { return cfg_; }
  const RateLimitedLog& log() const noexcept { return log_; }

 private:
  struct Mn {
    Ipv4Addr home;
    std::string nai;
    MipSa sa;
    MipHmacMd5::Key key;     /* RFC 2104 pads, precomputed */
    MipReplayState replay;
    bool enabled = true;
  };
  struct Ctx;

  HaVerdict drop(HaDrop d) noexcept;
  void log_drop(std::string_view why, cbytes msg, const RequestMeta& meta) noexcept;
  HaVerdict finish(Ctx& c, uint8_t code, bytes reply_out) noexcept;
  uint8_t apply_binding(Ctx& c) noexcept;
  Mn* find_mn(Ipv4Addr home, cbytes nai) noexcept;
  bool is_our_address(Ipv4Addr a) const noexcept;
  uint32_t next_nonce() noexcept;

  HaConfig cfg_;
  Qsbr qsbr_;
  QsbrReclaimer rc_{qsbr_};
  std::unique_ptr<BindingTable> table_;
  MipHmacMd5 hmac_;
  RateLimitedLog log_;
  HaCounters ctr_;

  std::vector<Mn> mns_;
  std::unordered_map<uint32_t, uint32_t> by_home_;
  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, uint32_t, SvHash, std::equal_to<>> by_nai_;

  /* Expiry queue: (expires_s, home), earliest first; stale entries are
   * skipped when popped (a renewal pushes a new one). */
  struct Expiry {
    uint32_t at;
    uint32_t home;
  };
  struct ExpiryLater {
    bool operator()(const Expiry& a, const Expiry& b) const noexcept {
      return static_cast<int32_t>(a.at - b.at) > 0;
    }
  };
  std::priority_queue<Expiry, std::vector<Expiry>, ExpiryLater> expiry_;
  uint64_t nonce_state_;
};

}  // namespace mipvpn
