/* SPDX-License-Identifier: BSD-3-Clause */
#include "stages/forward.h"

#include "stages/icmp.h"

namespace mipvpn {

void forward_stage(const StageCtx& c, const uint16_t* idx, uint16_t n) noexcept {
  uint64_t good = 0;
  for (uint16_t k = 0; k < n; ++k) {
    const uint16_t i = idx[k];
    PktView& p = *c.pkts[i];
    const Ipv4Addr dst(header_at<Ipv4Hdr>(p.data())->dst.host());
    const StageTables::FwdRoute* r = c.t.fwd_lookup(dst);
    if (!r) {
      c.drop(i, StageDrop::kNoRoute);
      continue;
    }
    if (!c.st[i].prot && r->internal) {  /* RFC 4301 5.2 */
      c.drop(i, StageDrop::kUnprotected);
      continue;
    }
    if (p.data_len > r->mtu) {
      icmp_too_big(c, i, r->mtu);  /* RFC 1191, RFC 2003 5.1 */
      continue;
    }
    if (!ttl_once(p, c.st[i])) {  /* RFC 1812 5.3.1 */
      icmp_error(c, i, kIcmpTypeTimeExceeded, kIcmpCodeTtl, 0, StageDrop::kTtlExceeded);
      continue;
    }
    p.user = r->port;
    c.next_hop[i] = r->next_hop.host() != 0 ? r->next_hop : dst;
    c.st[i].act = Action::kDone;
    ++good;
  }
  c.ctr.stage[static_cast<size_t>(Stage::kForward)] += good;
}

}  // namespace mipvpn
