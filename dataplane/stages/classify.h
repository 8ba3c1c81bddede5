/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Classification (RFC 5265 section 2, the co-located server roles): for
 * each packet, what to do next, in this order, each only when its role
 * is enabled:
 *  1. to one of our addresses: IP-in-IP / UDP 434 tunnel data to an
 *     x-HA or i-HA address -> decap; UDP 434 anything else -> punt
 *     (registration); ESP or UDP 4500 ESP to the gateway -> ESP inbound
 *     by SPI; IKE (UDP 500, 4500 with the non-ESP marker) -> punt;
 *     NAT-T keepalive -> quiet drop; anything else -> drop;
 *  2. to an i-HoA with an i-HA binding -> i-MIP encap;
 *  3. to an outbound SPD selector -> ESP outbound;
 *  4. to an x-HoA with an x-HA binding -> x-MIP encap;
 *  5. otherwise -> forward.
 * Also trims Ethernet padding (bytes past the IPv4 total length).
 */
#pragma once

#include "stages/stage.h"

namespace mipvpn {

/* Sets st[idx[k]].act (and inb / outb / bind / drop) for k < n. */
void classify_burst(const StageCtx& c, const uint16_t* idx, uint16_t n) noexcept;

}  // namespace mipvpn
