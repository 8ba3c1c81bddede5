/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A packet as the codecs, the ESP engine and the stages see it: a byte buffer with a
 * data window, the same shape as an rte_mbuf's single segment (buf_addr,
 * buf_len, data_off, data_len). The DPDK adapter fills these from mbufs
 * and writes data_off/data_len back; tests and benchmarks use plain
 * buffers. No DPDK include here.
 */
#pragma once

#include <cstdint>
#include <span>

namespace mipvpn {

struct PktView {
  std::byte* buf = nullptr;  /* start of the buffer (headroom included) */
  uint32_t buf_len = 0;      /* capacity of buf */
  uint32_t data_off = 0;     /* first byte of the packet */
  uint32_t data_len = 0;     /* packet length */
  uint16_t drop = 0;         /* drop reason set by the stage that refused it */
  uint16_t user = 0;         /* free for the caller (e.g. port or SA index) */

  std::byte* data() const noexcept { return buf + data_off; }
  std::span<std::byte> bytes() const noexcept { return {buf + data_off, data_len}; }
  uint32_t headroom() const noexcept { return data_off; }
  uint32_t tailroom() const noexcept { return buf_len - data_off - data_len; }
};

/*
 * Burst contract (rte_ipsec style, misc.h:move_bad_mbufs): a stage gets
 * pkts[0..n), returns k; pkts[0..k) are good and in their original order,
 * pkts[k..n) are the refused ones, each with its drop field set. The
 * caller frees the refused ones.
 */
inline uint16_t move_bad_to_tail(PktView** pkts, uint16_t n, const bool* bad) noexcept {
  PktView* tail[256];
  uint16_t k = 0, b = 0;
  for (uint16_t i = 0; i < n; ++i) {
    if (bad[i])
      tail[b++] = pkts[i];
    else
      pkts[k++] = pkts[i];
  }
  for (uint16_t i = 0; i < b; ++i) pkts[k + i] = tail[i];
  return k;
}

inline constexpr uint16_t kMaxBurst = 256;

}  // namespace mipvpn
