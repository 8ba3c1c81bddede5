/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the stages of one burst share: the per-packet state (the next
 * action, the drop reason, the records classification found) and the
 * context (tables, counters, verdict outputs). Stages work on lists of
 * indices into the burst, so the caller's array keeps its order and
 * next_hop[i] stays bound to pkts[i].
 */
#pragma once

#include <array>
#include <cstdint>

#include "codec/ipv4.h"
#include "codec/pkt.h"
#include "stages/drop.h"
#include "stages/icmp_state.h"
#include "stages/pipeline.h"
#include "stages/tables.h"

namespace mipvpn {

/* The next thing to do with a packet; the first three are outcomes. */
enum class Action : uint8_t {
  kDrop,           /* refused: PktState::drop says why */
  kDone,           /* verdict written (forwarded or punted) */
  kAgain,          /* decapsulated or encapsulated: classify again */
  kXmipDecapIpip,  /* to an x-HA address, RFC 2003 */
  kXmipDecapUdp,   /* to an x-HA address, RFC 3519 */
  kImipDecapIpip,  /* to an i-HA address, RFC 2003 */
  kImipDecapUdp,   /* to an i-HA address, RFC 3519 */
  kEspInbound,     /* PktState::inb set */
  kImipEncap,      /* PktState::bind set (i-HA binding) */
  kEspOutbound,    /* PktState::outb set */
  kXmipEncap,      /* PktState::bind set (x-HA binding) */
  kForward,
  kPunt,
  kCount,
};
inline constexpr size_t kActions = static_cast<size_t>(Action::kCount);

struct PktState {
  Action act = Action::kDrop;
  StageDrop drop = StageDrop::kNone;
  bool ttl_done = false;  /* the user-visible TTL was decremented in this call */
  bool prot = false;      /* may enter the protected side: came in on an internal
                           * port, or out of ESP inbound in this call */
  bool local = false;     /* originated here (echo reply, ICMP error): never the
                           * subject of an ICMP error (RFC 1812 4.3.2.7) */
  bool encapped = false;  /* a tunnel header was added in this call */
  bool quoted = false;    /* IcmpCtx::quote[i] holds the user datagram's head */
  bool hdr_ok = false;    /* the header at data() was verified (checksum included)
                           * or built by a stage since the last classification:
                           * classify does not sum it again (it clears this) */
  Ipv4Addr via;           /* our tunnel endpoint that decapsulated it last */
  const InbSa* inb = nullptr;
  EspSa* outb = nullptr;
  const Binding* bind = nullptr;
};

/* Address lists a stage builds per burst, kept by the pipeline so that
 * no stage zeroes 3 KiB of stack per call (Ipv4Addr zero-initialises).
 * classify uses a0/a1, x-/i-MIP decap a0..a2; they never run nested. */
struct StageScratch {
  std::array<Ipv4Addr, kMaxBurst> a0, a1, a2;
};

class DstMemo;  /* stages/dst_memo.h */

struct StageCtx {
  const StageTables& t;
  PktView* const* pkts;
  Ipv4Addr* next_hop;
  PktState* st;
  StageCounters& ctr;
  uint16_t& ip_id;  /* outer Identification of the tunnels we originate */
  IcmpCtx& icmp;
  StageScratch& scr;
  DstMemo& memo;    /* classification's rules 2..4 by destination, synced to t */

  void drop(uint16_t i, StageDrop d) const noexcept {
    st[i].act = Action::kDrop;
    st[i].drop = d;
  }
  void again(uint16_t i) const noexcept { st[i].act = Action::kAgain; }
  /* Again, with a header known good (PktState::hdr_ok). */
  void again_ok(uint16_t i) const noexcept {
    st[i].act = Action::kAgain;
    st[i].hdr_ok = true;
  }
};

/*
 * Decrement the user-visible TTL of a datagram the appliance passes on,
 * once per process() call: before it enters our first tunnel (RFC 2003
 * 3.1: the encapsulator decrements as part of forwarding; RFC 4301 5.1
 * for ESP tunnel mode) or when forwarded as it is (RFC 1812 5.3.1).
 * Tunnel headers we build ourselves are not decremented again. Expects a
 * header ipv4_parse() accepted at pkt.data(). False: TTL <= 1 (drop).
 */
inline bool ttl_once(PktView& pkt, PktState& s) noexcept {
  if (s.ttl_done) return true;
  /* ipv4_ttl_decrement() inline: RFC 1624 eqn. 3 on the TTL/protocol word. */
  Ipv4Hdr* h = header_at<Ipv4Hdr>(pkt.data());
  if (h->ttl <= 1) return false;
  const uint16_t old_word = static_cast<uint16_t>((h->ttl << 8) | h->proto);
  h->ttl = static_cast<uint8_t>(h->ttl - 1);
  h->csum = be16::from_host(csum_update16(h->csum.host(), old_word,
                                          static_cast<uint16_t>(old_word - 0x100)));
  s.ttl_done = true;
  return true;
}

}  // namespace mipvpn
