/* SPDX-License-Identifier: BSD-3-Clause */
/* Building Registration Requests and reading Replies for the home agent tests. */
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ha/home_agent.h"
#include "mip_test_util.h"

namespace mipvpn::test {

inline constexpr uint64_t kNowUnix = 1700000000;  /* 2023-11-14 */
inline const uint64_t kNow = mip_ntp_from_unix(kNowUnix);

/* A request as a mobile node would send it. */
struct ReqSpec {
  MipRequest rq;
  std::string nai;
  std::optional<MipUdpTunnelReq> utrq;
  std::vector<std::pair<uint8_t, Bytes>> raw_before_auth;  /* extensions, in order */
  bool auth = true;
  MipSa sa = test_sa();
  uint32_t truncate = 0;  /* bytes cut from the end */
};

inline ReqSpec base_request() {
  ReqSpec s;
  s.rq.lifetime = 600;
  s.rq.home_addr = Ipv4Addr(10, 1, 0, 5);
  s.rq.home_agent = Ipv4Addr(10, 1, 0, 1);
  s.rq.care_of = Ipv4Addr(192, 0, 2, 7);
  s.rq.id = kNow;
  return s;
}

inline Bytes build_request(const ReqSpec& s) {
  Bytes buf(1024);
  MipMsgBuilder b(buf);
  b.request(s.rq);
  if (!s.nai.empty()) b.add_nai(s.nai);
  if (s.utrq) b.add_udp_tunnel_request(*s.utrq);
  for (const auto& [t, d] : s.raw_before_auth) b.add_raw(t, d);
  if (s.auth) {
    MipHmacMd5 h;
    mip_add_auth(b, h, s.sa);
  }
  Bytes m = to_vec(b.msg());
  m.resize(m.size() - s.truncate);
  return m;
}

/* A reply as the mobile node reads it. */
struct ReplyView {
  MipReply rp;
  MipExts x;
  MipError auth = MipError::kAuthMissing;  /* verified with the test SA */
  bool tnc_authenticated = false;
  Bytes raw;
};

inline std::optional<ReplyView> read_reply(cbytes m, const MipSa& sa = test_sa()) {
  auto rp = mip_parse_reply(m);
  auto x = mip_scan_extensions(m);
  if (!rp || !x) return std::nullopt;
  ReplyView v;
  v.rp = *rp;
  v.x = *x;
  v.raw = to_vec(m);
  MipHmacMd5 h;
  v.auth = mip_verify_mn_ha(h, sa, v.raw, v.x);
  v.tnc_authenticated = mip_authenticated_tnc(h, sa, v.raw, v.x);
  return v;
}

inline RequestMeta base_meta() {
  RequestMeta m;
  m.src = Ipv4Addr(192, 0, 2, 7);  /* = care-of address: no NAT */
  m.src_port = 434;
  m.dst = Ipv4Addr(10, 1, 0, 1);
  m.now_ntp = kNow;
  return m;
}

inline HaConfig base_config() {
  HaConfig c;
  c.addresses = {Ipv4Addr(10, 1, 0, 1)};
  c.max_lifetime = 1800;
  return c;
}

}  // namespace mipvpn::test
