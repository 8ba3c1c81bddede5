/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Just enough JSON (RFC 8259) for the answers of DPDK's telemetry socket:
 * objects (member order kept), arrays, strings (with escapes, \u to
 * UTF-8), numbers (unsigned 64-bit kept exact), true, false, null. Depth
 * is bounded; bad input is an error with its byte offset, never a crash.
 */
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mipvpn {

struct Json {
  enum class Type : uint8_t { kNull, kBool, kUint, kInt, kDouble, kString, kArray, kObject };
  Type type = Type::kNull;
  bool b = false;
  uint64_t u = 0;
  int64_t i = 0;
  double d = 0;
  std::string s;
  std::vector<Json> arr;
  std::vector<std::pair<std::string, Json>> obj;

  bool is_object() const noexcept { return type == Type::kObject; }
  bool is_number() const noexcept { return type == Type::kUint || type == Type::kInt || type == Type::kDouble; }
  /* Member by key, or nullptr. */
  const Json* get(std::string_view key) const noexcept;
  /* A scalar as text (numbers exactly, strings as they are). */
  std::string text() const;
};

/* The value, or nullopt with "offset N: what" in *err. */
std::optional<Json> json_parse(std::string_view in, std::string* err);

}  // namespace mipvpn
