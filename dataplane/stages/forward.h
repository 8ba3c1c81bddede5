/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Forwarding (RFC 1812 5.2, 5.3): longest-prefix route, TTL decremented
 * once per call (ttl_once), size against the output port's MTU. The
 * verdict is the port index, next_hop[i] the route's next hop or the
 * destination itself for a connected route.
 * Too big: ICMP fragmentation needed when DF is set (with the tunnel MTU
 * for what this call encapsulated), else dropped as too_big: no
 * fragmentation (drop.h). TTL run out: ICMP time exceeded. Both through
 * stages/icmp.h, rate-limited; the error is classified again.
 */
#pragma once

#include "stages/stage.h"

namespace mipvpn {

void forward_stage(const StageCtx& c, const uint16_t* idx, uint16_t n) noexcept;

}  // namespace mipvpn
