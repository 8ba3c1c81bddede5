/* SPDX-License-Identifier: BSD-3-Clause */
/* UDP parser: stays inside the IP payload; a non-zero checksum it accepts
 * under kFull is the one udp_checksum() computes (or its 0xffff form). */
#include "codec/udp.h"
#include "fuzz_util.h"

using namespace mipvpn;
using namespace mipvpn::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  Ipv4Info ip;
  ip.src = Ipv4Addr(fdp.ConsumeIntegral<uint32_t>());
  ip.dst = Ipv4Addr(fdp.ConsumeIntegral<uint32_t>());
  const auto l4 = rest_as_packet(fdp);
  for (auto check : {UdpCheck::kFull, UdpCheck::kNoChecksum}) {
    auto u = udp_parse(l4, ip, check);
    if (!u) continue;
    FUZZ_CHECK(u->len >= kUdpHdrLen && u->len <= l4.size());
    if (check == UdpCheck::kFull && u->has_csum) {
      const uint16_t want = udp_checksum(cbytes(l4).first(u->len), ip.src, ip.dst);
      const uint16_t got = load_be16(&l4[6]);
      FUZZ_CHECK(got == want || (want == 0xffff && got == 0) || (got == 0xffff && want == 0));
    }
  }
  return 0;
}
