/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The contract between the runtime (dataplane/runtime: EAL, ports, mbufs,
 * lcores) and the packet stages (dataplane/stages: classify, x-MIP / ESP /
 * i-MIP decap and encap, forward). No DPDK here: the runtime turns each
 * received mbuf into a PktView whose data starts at the IPv4 header
 * (Ethernet already stripped and checked), calls Pipeline::process once
 * per burst, and then acts on each packet's verdict:
 *
 *   pkt->user <  kVerdictFirstSpecial: send out of that port index, to the
 *                                      IPv4 next hop in next_hop[i]
 *   kVerdictDrop:  free it; pkt->drop holds the reason (StageDrop,
 *                  stages/drop.h; the ESP engine's finer reason is in
 *                  the pipeline's counters)
 *   kVerdictPunt:  hand it to the control thread (registration on UDP 434,
 *                  IKE on UDP 500 / 4500 with the non-ESP marker)
 *
 * A Pipeline object belongs to one worker lcore (it holds the worker's
 * IPsec-MB manager and counters); it reads the published tables without
 * locks and never allocates, blocks or throws in process().
 */
#pragma once

#include <cstdint>

#include "codec/ipv4_addr.h"
#include "codec/pkt.h"

namespace mipvpn {

inline constexpr uint16_t kVerdictFirstSpecial = 0xfff0;
inline constexpr uint16_t kVerdictDrop = 0xffff;
inline constexpr uint16_t kVerdictPunt = 0xfffe;
/* in_port of a packet the appliance itself originates (the control
 * thread's registration replies): trusted like an internal port. */
inline constexpr uint16_t kPortLocal = kVerdictFirstSpecial;

class Pipeline {
 public:
  virtual ~Pipeline() = default;
  /*
   * pkts[0..n) arrived on port in_port (n <= kMaxBurst). On return every
   * packet has its verdict in pkt->user; for forwarded packets next_hop[i]
   * is the IPv4 address to resolve on the output port (the destination
   * itself when directly connected). Packets may have grown into their
   * head/tailroom (encapsulation) or shrunk (decapsulation).
   */
  virtual void process(PktView* const* pkts, uint16_t n, uint16_t in_port,
                       Ipv4Addr* next_hop) noexcept = 0;
};

}  // namespace mipvpn
