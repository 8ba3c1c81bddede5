/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's memo of classification rules 2 to 4 (classify.h) by
 * destination address: which of i-MIP encapsulation (an i-HA binding),
 * ESP outbound (an SPD entry) or x-MIP encapsulation (an x-HA binding)
 * a datagram to that address gets, or none (forwarded as it is). The
 * triple encapsulation classifies four headers per packet, each against
 * all three tables, and the answers repeat from packet to packet: one
 * probe here replaces up to two binding lookups and an SPD lookup.
 *
 * Valid while nothing it remembers can have changed: the entries carry a
 * generation, and the generation moves on whenever the published stage
 * tables (their serial: SPD, SAs, roles, addresses) or either binding
 * table (its version: every registration, renewal, expiry, operator
 * change) differ from what the memo last saw. sync() compares them once
 * per burst. A remembered record or SA stays valid for the burst as any
 * lookup result does: the writer frees it only after every worker's next
 * quiescent state, and by then the worker sees the new version or serial.
 * A binding published while a burst runs may take effect one burst later
 * than without the memo.
 *
 * Direct-mapped, 4096 entries of 16 bytes (64 KiB) per worker; what
 * does not fit is looked up as before and overwrites the slot.
 */
#pragma once

#include <array>
#include <cstdint>

#include "stages/stage.h"

namespace mipvpn {

class DstMemo {
 public:
  static constexpr uint32_t kBits = 12;

  struct Entry {
    uint32_t dst = 0;
    uint16_t gen = 0;  /* 0: never valid */
    Action act = Action::kForward;  /* kImipEncap, kEspOutbound, kXmipEncap or kForward */
    const void* ref = nullptr;      /* the Binding or the EspSa */
  };
  static_assert(sizeof(Entry) == 16);

  /* Once per burst (per ServerPipeline chunk of up to kMaxBurst), before any find(). */
  void sync(const StageTables& t) noexcept {
    const uint64_t serial = t.serial();
    const uint64_t xv = t.xha_bindings() ? t.xha_bindings()->version() : 0;
    const uint64_t iv = t.iha_bindings() ? t.iha_bindings()->version() : 0;
    if (serial == serial_ && xv == xver_ && iv == iver_) return;
    serial_ = serial;
    xver_ = xv;
    iver_ = iv;
    if (++gen_ == 0) {  /* 65535 changes later: forget everything */
      e_.fill(Entry{});
      gen_ = 1;
    }
  }
  /* The entry for dst, or nullptr. */
  const Entry* find(Ipv4Addr dst) const noexcept {
    const Entry& e = e_[slot(dst.host())];
    return e.dst == dst.host() && e.gen == gen_ ? &e : nullptr;
  }
  void put(Ipv4Addr dst, Action act, const void* ref) noexcept {
    e_[slot(dst.host())] = Entry{dst.host(), gen_, act, ref};
  }

 private:
  static uint32_t slot(uint32_t a) noexcept { return (a * 0x9e3779b1u) >> (32 - kBits); }

  std::array<Entry, size_t{1} << kBits> e_{};
  uint16_t gen_ = 1;
  uint64_t serial_ = 0, xver_ = 0, iver_ = 0;
};

}  // namespace mipvpn
