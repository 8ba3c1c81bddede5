/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The server appliance's worker pipeline: x-HA, VPN gateway and i-HA in
 * any combination (RFC 5265 section 2: "all three server components may
 * be co-located in a single physical device"). Per burst:
 *
 *   classify -> { x-MIP decap | ESP inbound | i-MIP decap |
 *                 i-MIP encap | ESP outbound | x-MIP encap } -> classify again
 *            -> forward | punt | drop
 *
 * Each pass classifies the packets still in play, partitions them by
 * action and runs every stage once on its group (ESP: one engine call per
 * SA). A decapsulated or encapsulated packet is classified again, at most
 * kMaxPasses classifications in all, so the combined appliance does
 * x-MIP decap -> ESP inbound -> i-MIP decap -> forward (and the reverse
 * triple encapsulation) in one process() call; a packet still in play
 * after that is dropped as a loop.
 *
 * ICMP (stages/icmp.h): echo requests to our addresses are answered, a
 * forwarded datagram whose TTL runs out or that is too big for its port
 * once our tunnels are added (DF set) becomes time exceeded or
 * fragmentation needed (with the tunnel MTU) to its sender; both are
 * built in place and classified again like any packet we originate, so
 * they go back through the tunnels. Errors are rate-limited per pipeline
 * (set_clock). No fragmentation, no reassembly (drop.h).
 *
 * Zones: clear traffic that came in on an external port may not reach
 * the protected side (RFC 4301 5.1, 5.2; PortZone in tables.h) unless it
 * came out of ESP inbound in the same call.
 *
 * Tables: read through the atomic pointer the control thread publishes,
 * once per burst (acquire); the runtime reports the worker's quiescent
 * state between bursts (control/qsbr.h).
 */
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include "crypto/esp.h"
#include "stages/drop.h"
#include "stages/dst_memo.h"
#include "stages/pipeline.h"
#include "stages/stage.h"
#include "stages/tables.h"

namespace mipvpn {

class ServerPipeline final : public Pipeline {
 public:
  /* 7 are needed for mobile node to mobile node through the combined
   * appliance (triple decap, then triple encap, then forward); an ICMP
   * error about that packet at the last forward takes 4 more (triple
   * encap back to the sender, forward): 11, and one to spare. */
  static constexpr uint32_t kMaxPasses = 12;

  /* nullptr and a sentence in *err when the crypto engine cannot start. */
  static std::unique_ptr<ServerPipeline> create(const std::atomic<const StageTables*>& tables,
                                                std::string* err);

  void process(PktView* const* pkts, uint16_t n, uint16_t in_port,
               Ipv4Addr* next_hop) noexcept override;

  const StageCounters& counters() const noexcept { return ctr_; }

  /* The clock of the ICMP error limit (icmp_state.h): the runtime's TSC,
   * a test's fake. Default: steady_clock. Set before the first burst. */
  void set_clock(const IcmpClock& clock) noexcept { clock_ = clock; }

 private:
  ServerPipeline(const std::atomic<const StageTables*>& tables, std::unique_ptr<EspEngine> eng)
      : tables_(tables), eng_(std::move(eng)) {}
  void process_chunk(PktView* const* pkts, uint16_t n, uint16_t in_port, Ipv4Addr* next_hop) noexcept;

  const std::atomic<const StageTables*>& tables_;
  std::unique_ptr<EspEngine> eng_;
  StageCounters ctr_;
  uint16_t ip_id_ = 1;
  IcmpClock clock_ = icmp_default_clock();
  IcmpRateLimit icmp_rl_;
  std::array<IcmpQuote, kMaxBurst> quote_;
  std::array<PktState, kMaxBurst> st_;
  StageScratch scr_;
  DstMemo memo_;
  std::array<std::array<uint16_t, kMaxBurst>, kActions> grp_;
};

}  // namespace mipvpn
