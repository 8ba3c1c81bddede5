/* SPDX-License-Identifier: BSD-3-Clause */
#include "stages/esp_stage.h"

#include "stages/icmp.h"

namespace mipvpn {

namespace {

/*
 * The group through the engine in one call, whatever its SAs (one
 * IPsec-MB submit/flush cycle for all of them: crypto/esp.h *_grouped):
 * split SA by SA by the engine's own EspGroups (crypto/esp.h: groups in
 * order of first appearance, each SA's packets in arrival order, which the
 * replay window and sequence numbers depend on); then visit(sa_key, i,
 * pkt, ok) in that order: ok when the engine kept the packet (burst
 * contract: the good ones keep their order in burst[0..good)).
 */
template <class Key, class SaOf, class Process, class Visit>
void engine_burst(const StageCtx& c, const uint16_t* idx, uint16_t n, Key key, SaOf sa_of,
                  Process&& process, Visit&& visit) noexcept {
  EspSa* sa_of_pkt[kMaxBurst];
  PktView* pkts[kMaxBurst];
  uint16_t order[kMaxBurst];
  for (uint16_t k = 0; k < n; ++k) {
    sa_of_pkt[k] = sa_of(*key(c.st[idx[k]]));
    pkts[k] = c.pkts[idx[k]];
  }
  EspGroups g;
  const uint16_t ng = g.split(sa_of_pkt, pkts, n);
  for (uint16_t k = 0; k < n; ++k) order[g.pos[k]] = idx[k];
  const uint16_t good = process(g.sas, g.cnt, ng, g.grp, n);
  uint16_t m = 0;
  for (uint16_t k = 0; k < n; ++k) {
    const uint16_t i = order[k];
    PktView& p = *c.pkts[i];
    const bool ok = m < good && g.grp[m] == &p;
    m = static_cast<uint16_t>(m + (ok ? 1 : 0));
    visit(*key(c.st[i]), i, p, ok);
  }
}

/* The engine's reason as a counter index (0 when out of range). */
inline size_t esp_drop_index(const PktView& p) noexcept {
  return p.drop < static_cast<uint16_t>(EspDrop::kCount) ? p.drop : 0;
}

}  // namespace

void esp_inb_stage(const StageCtx& c, EspEngine& eng, const uint16_t* idx, uint16_t n) noexcept {
  if (n == 0) return;
  engine_burst(
      c, idx, n, [](const PktState& s) { return s.inb; },
      [](const InbSa& in) { return in.sa; },
      [&](EspSa* const* sas, const uint16_t* cnt, uint16_t ng, PktView** b, uint16_t k) {
        return esp_inb_process_grouped(eng, sas, cnt, ng, b, k);
      },
      [&](const InbSa& in, uint16_t i, PktView& p, bool ok) {
        if (!ok) {
          c.ctr.esp_inb_drops[esp_drop_index(p)]++;
          c.drop(i, StageDrop::kEspInbound);
          return;
        }
        /* RFC 4301 5.2 step 4: the inner header must match the SA's
         * selector. The engine checked the inner header. */
        const Ipv4Addr src(header_at<Ipv4Hdr>(p.data())->src.host());
        if (!in.inner_src.contains(src)) {
          c.drop(i, StageDrop::kPolicyMismatch);
          return;
        }
        c.st[i].prot = true;  /* came through the VPN: the protected side */
        c.st[i].via = c.t.gw_addr();  /* our end of the tunnel (ICMP source) */
        c.again(i);
        c.ctr.stage[static_cast<size_t>(Stage::kEspInbound)]++;
      });
}

void esp_outb_stage(const StageCtx& c, EspEngine& eng, const uint16_t* idx, uint16_t n) noexcept {
  if (n == 0) return;
  /* TTL first; refused packets leave the group. */
  uint16_t live[kMaxBurst];
  uint32_t len_in[kMaxBurst];  /* by burst index: for the tunnel MTU (icmp.h) */
  uint16_t nl = 0;
  for (uint16_t k = 0; k < n; ++k) {
    const uint16_t i = idx[k];
    icmp_before_encap(c, i);
    if (!ttl_once(*c.pkts[i], c.st[i])) {  /* RFC 1812 5.3.1 */
      icmp_error(c, i, kIcmpTypeTimeExceeded, kIcmpCodeTtl, 0, StageDrop::kTtlExceeded);
      continue;
    }
    len_in[i] = c.pkts[i]->data_len;
    live[nl++] = i;
  }
  engine_burst(
      c, live, nl, [](const PktState& s) { return s.outb; }, [](EspSa& sa) { return &sa; },
      [&](EspSa* const* sas, const uint16_t* cnt, uint16_t ng, PktView** b, uint16_t k) {
        return esp_outb_process_grouped(eng, sas, cnt, ng, b, k);
      },
      [&](EspSa& sa, uint16_t i, PktView& p, bool ok) {
        if (!ok) {
          const size_t d = esp_drop_index(p);
          c.ctr.esp_outb_drops[d]++;
          /* Room is the runtime's business (mbuf headroom): say so. */
          c.drop(i, static_cast<EspDrop>(d) == EspDrop::kNoRoom ? StageDrop::kNoHeadroom
                                                                : StageDrop::kEspOutbound);
          return;
        }
        icmp_after_esp(c, i, len_in[i], p.data_len, sa.suite().block);
        c.again_ok(i);  /* the engine built the outer header */
        c.ctr.stage[static_cast<size_t>(Stage::kEspOutbound)]++;
      });
}

}  // namespace mipvpn
