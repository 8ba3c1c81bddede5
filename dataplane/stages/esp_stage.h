/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The VPN gateway's ESP stages (RFC 4303 tunnel mode, RFC 3948 UDP
 * encapsulation): the group is split by SA, each SA's packets in
 * arrival order, and the whole group goes to the engine in one call
 * (crypto/esp.h *_grouped): every SA keeps its own format, sequence
 * numbers, replay window and counters, but the IPsec-MB manager is
 * flushed once per group, not once per SA. Inbound, the decrypted inner
 * source must lie in the SA's selector (RFC 4301 5.2 step 4). Outbound,
 * the inner TTL is decremented first (RFC 4301 5.1: IPsec tunnel mode is
 * forwarding) unless this call already did. Engine refusals are counted
 * by EspDrop per direction; the packet's drop reason is kEspInbound /
 * kEspOutbound, except kNoHeadroom for an outbound packet the engine had
 * no room for.
 */
#pragma once

#include "stages/stage.h"

namespace mipvpn {

void esp_inb_stage(const StageCtx& c, EspEngine& eng, const uint16_t* idx, uint16_t n) noexcept;
void esp_outb_stage(const StageCtx& c, EspEngine& eng, const uint16_t* idx, uint16_t n) noexcept;

}  // namespace mipvpn
