/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * x-MIP / i-MIP encapsulation at a home agent (RFC 5944 4.2.3, RFC 5265
 * section 2): a datagram for a home address with a binding is tunnelled
 * from our address to the binding's care-of address, as IP-in-IP
 * (RFC 2003) or, for an RFC 3519 binding, in UDP from port 434 to the
 * NAT's address and port learnt at registration. The inner TTL is
 * decremented first (RFC 2003 3.1) unless this call already did.
 * Only the binding's first care-of address is served.
 * TODO(simultaneous): duplicate to every care-of address (S bit) once the
 * runtime can clone packets.
 */
#pragma once

#include "stages/stage.h"

namespace mipvpn {

/* Encapsulate pkts[idx[k]] with st[].bind; own = our address (the
 * outer source when the binding names none). Good ones -> kAgain. */
void mip_encap_stage(const StageCtx& c, const uint16_t* idx, uint16_t n, Ipv4Addr own,
                     Stage stage) noexcept;

}  // namespace mipvpn
