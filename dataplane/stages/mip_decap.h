/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * x-MIP / i-MIP decapsulation at a home agent: IP-in-IP (RFC 2003) or
 * the RFC 3519 UDP tunnel, then the reverse-tunnel check (RFC 3024
 * section 5.2, RFC 5944 4.2.3): the inner source must be a home address
 * with a binding in this agent's table, and one of its care-of entries
 * must name the outer source as its peer (care-of address, or the NAT's
 * address for UDP) and, for UDP, the outer source port too.
 */
#pragma once

#include "stages/stage.h"

namespace mipvpn {

enum class MipTunnel : uint8_t { kIpip, kUdp };

/* Decapsulate pkts[idx[k]]; good ones -> kAgain, counted under stage. */
void mip_decap_stage(const StageCtx& c, const uint16_t* idx, uint16_t n, MipTunnel tun,
                     const BindingTable& bt, Stage stage) noexcept;

}  // namespace mipvpn
