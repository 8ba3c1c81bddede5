/* SPDX-License-Identifier: BSD-3-Clause */
/* Small helpers the daemon's control-thread files share. No DPDK. */
#pragma once

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

#include "mip/replay.h"

namespace mipvpn {

/* The home agents' clock: now as a 64-bit NTP timestamp (RFC 5944 5.7.1). */
inline uint64_t ha_now_ntp() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  /* NTP fraction: nanoseconds * 2^32 / 10^9 */
  const auto frac = static_cast<uint32_t>((static_cast<uint64_t>(ts.tv_nsec) << 32) / 1000000000u);
  return mip_ntp_from_unix(static_cast<uint64_t>(ts.tv_sec), frac);
}

/* An SPI as a human writes it: "0x1001". */
inline std::string hex32(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%x", v);
  return b;
}

}  // namespace mipvpn
