/* SPDX-License-Identifier: BSD-3-Clause */
/* Time stamp counter helpers for the benchmark (x86-64). */
#pragma once

#include <x86intrin.h>

#include <chrono>
#include <cstdint>

namespace mipvpn::bench {

inline uint64_t tsc_now() noexcept {
  unsigned aux;
  return __rdtscp(&aux);
}

/* TSC ticks per second, measured against steady_clock over ~100 ms. */
inline double tsc_hz() {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const uint64_t c0 = tsc_now();
  while (clock::now() - t0 < std::chrono::milliseconds(100)) {
  }
  const auto t1 = clock::now();
  const uint64_t c1 = tsc_now();
  return static_cast<double>(c1 - c0) / std::chrono::duration<double>(t1 - t0).count();
}

}  // namespace mipvpn::bench
