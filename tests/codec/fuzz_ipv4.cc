/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 parser: never crashes, and what it accepts is self-consistent. */
#include <cstdlib>

#include "codec/ipv4.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mipvpn;
  cbytes in(reinterpret_cast<const std::byte*>(data), size);
  for (auto check : {Ipv4Check::kFull, Ipv4Check::kNoChecksum}) {
    auto r = ipv4_parse(in, check);
    if (!r) continue;
    if (r->hdr_len < kIpv4HdrLen || r->hdr_len > r->total_len || r->total_len > size) std::abort();
    if (check == Ipv4Check::kFull && ip_checksum(in.first(r->hdr_len)) != 0) std::abort();
  }
  return 0;
}
