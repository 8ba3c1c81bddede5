/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A telemetry answer as the control thread builds it, with no DPDK: a
 * dictionary of unsigned / signed integers, strings and one level of
 * nested dictionaries (what DPDK 22.11's rte_tel_data carries and its
 * JSON writer prints). telemetry.cc turns it into rte_tel_data.
 *
 * Keys: letters, digits and '_' only (rte_tel_data refuses '.'), at most
 * 63 characters; string values at most 127 characters. A dictionary
 * holds at most kMaxEntries entries (RTE_TEL_MAX_DICT_ENTRIES).
 */
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mipvpn {

struct TelDict;

struct TelEntry {
  enum class Kind : uint8_t { kU64, kI64, kStr, kDict };
  std::string key;
  Kind kind = Kind::kU64;
  uint64_t u = 0;
  int64_t i = 0;
  std::string s;
  std::shared_ptr<TelDict> d;
};

struct TelDict {
  static constexpr size_t kMaxEntries = 256;
  std::vector<TelEntry> e;

  void u64(std::string k, uint64_t v) { e.push_back({std::move(k), TelEntry::Kind::kU64, v, 0, {}, {}}); }
  void i64(std::string k, int64_t v) { e.push_back({std::move(k), TelEntry::Kind::kI64, 0, v, {}, {}}); }
  void str(std::string k, std::string v) { e.push_back({std::move(k), TelEntry::Kind::kStr, 0, 0, std::move(v), {}}); }
  TelDict& dict(std::string k) {
    e.push_back({std::move(k), TelEntry::Kind::kDict, 0, 0, {}, std::make_shared<TelDict>()});
    return *e.back().d;
  }
  bool full() const noexcept { return e.size() >= kMaxEntries; }
};

}  // namespace mipvpn
