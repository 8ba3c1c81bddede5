/* SPDX-License-Identifier: BSD-3-Clause */
/* Hashing for table slots and worker spreading. No DPDK. */
#pragma once

#include <cstdint>

namespace mipvpn {

/* murmur3's 32-bit finaliser (fmix32): every input bit moves every output
 * bit, so consecutive keys (home addresses, SPIs) spread evenly. */
constexpr uint32_t fmix32(uint32_t x) noexcept {
  x ^= x >> 16;
  x *= 0x85ebca6bu;
  x ^= x >> 13;
  x *= 0xc2b2ae35u;
  x ^= x >> 16;
  return x;
}

}  // namespace mipvpn
