/* SPDX-License-Identifier: BSD-3-Clause */
#include "mip/msg.h"

#include <cstring>

namespace mipvpn {

namespace {

inline uint8_t u8(cbytes b, size_t i) noexcept { return std::to_integer<uint8_t>(b[i]); }

inline uint64_t id_of(be32 hi, be32 lo) noexcept {
  return (uint64_t{hi.host()} << 32) | lo.host();
}

constexpr bool recognised(uint8_t type) noexcept {
  switch (type) {
    case kMipExtMnHaAuth:
    case kMipExtMnFaAuth:
    case kMipExtFaHaAuth:
    case kMipExtUdpTunReply:
    case kMipExtNai:
    case kMipExtRevSupport:
    case kMipExtUdpTunReq:
    case kMipExtTnc:
      return true;
    default:
      return false;
  }
}

/* RFC 5944 1.11 short format: the types recognised here that carry a sub-type. */
constexpr bool short_format(uint8_t type) noexcept {
  return type == kMipExtUdpTunReply || type == kMipExtUdpTunReq || type == kMipExtTnc;
}

}  // namespace

uint8_t MipRequest::flags() const noexcept {
  return static_cast<uint8_t>((s ? kMipFlagS : 0) | (b ? kMipFlagB : 0) | (d ? kMipFlagD : 0) |
                              (m ? kMipFlagM : 0) | (g ? kMipFlagG : 0) | (r ? kMipFlagR : 0) |
                              (t ? kMipFlagT : 0) | (x ? kMipFlagX : 0));
}

uint16_t mip_fixed_len(cbytes msg) noexcept {
  if (msg.empty()) return 0;
  switch (u8(msg, 0)) {
    case kMipTypeRegRequest: return kMipRequestLen;
    case kMipTypeRegReply: return kMipReplyLen;
    default: return 0;
  }
}

MipParsed<MipRequest> mip_parse_request(cbytes msg) noexcept {
  if (msg.size() > 0xffff) return MipError::kTooBig;
  if (msg.size() < kMipRequestLen) return MipError::kTruncated;
  const auto* h = header_at<MipRequestHdr>(msg.data());
  if (h->type != kMipTypeRegRequest) return MipError::kBadType;
  MipRequest r;
  r.s = h->flags & kMipFlagS;
  r.b = h->flags & kMipFlagB;
  r.d = h->flags & kMipFlagD;
  r.m = h->flags & kMipFlagM;
  r.g = h->flags & kMipFlagG;
  r.r = h->flags & kMipFlagR;
  r.t = h->flags & kMipFlagT;
  r.x = h->flags & kMipFlagX;
  r.lifetime = h->lifetime.host();
  r.home_addr = Ipv4Addr(h->home_addr.host());
  r.home_agent = Ipv4Addr(h->home_agent.host());
  r.care_of = Ipv4Addr(h->care_of.host());
  r.id = id_of(h->id_hi, h->id_lo);
  return r;
}

MipParsed<MipReply> mip_parse_reply(cbytes msg) noexcept {
  if (msg.size() > 0xffff) return MipError::kTooBig;
  if (msg.size() < kMipReplyLen) return MipError::kTruncated;
  const auto* h = header_at<MipReplyHdr>(msg.data());
  if (h->type != kMipTypeRegReply) return MipError::kBadType;
  MipReply r;
  r.code = h->code;
  r.lifetime = h->lifetime.host();
  r.home_addr = Ipv4Addr(h->home_addr.host());
  r.home_agent = Ipv4Addr(h->home_agent.host());
  r.id = id_of(h->id_hi, h->id_lo);
  return r;
}

bool MipExtWalker::next(MipExt* e) noexcept {
  if (done_) return false;
  if (off_ >= msg_.size()) {  /* every byte consumed: a clean end */
    done_ = true;
    return false;
  }
  const uint8_t type = u8(msg_, off_);
  *e = MipExt{};
  e->type = type;
  e->offset = off_;
  e->known = recognised(type);
  /* RFC 5944 1.8: an unknown non-skippable extension discards the whole
   * message; we do not even know where its length is (1.10 long format). */
  if (!e->known && !mip_ext_skippable(type)) {
    err_ = MipError::kUnknownNonSkippable;
    done_ = true;
    return false;
  }
  if (msg_.size() - off_ < 2) {  /* no room for the Length byte */
    err_ = MipError::kExtTruncated;
    done_ = true;
    return false;
  }
  e->length = u8(msg_, off_ + 1);
  if (msg_.size() - off_ - 2 < e->length) {
    err_ = MipError::kExtTruncated;
    done_ = true;
    return false;
  }
  e->data = msg_.subspan(off_ + 2, e->length);
  if (short_format(type)) {
    e->format = MipExtFormat::kShort;
    if (e->length >= 1) {
      e->has_sub_type = true;
      e->sub_type = u8(e->data, 0);
    }
  }
  off_ = e->end();
  return true;
}

MipParsed<MipExts> mip_scan_extensions(cbytes msg) noexcept {
  if (msg.size() > 0xffff) return MipError::kTooBig;
  const uint16_t first = mip_fixed_len(msg);
  if (first == 0) return msg.empty() ? MipError::kTruncated : MipError::kBadType;
  if (msg.size() < first) return MipError::kTruncated;

  MipExts x;
  MipExtWalker w(msg, first);
  for (MipExt e; w.next(&e);) {
    ++x.count;
    const cbytes d = e.data;
    switch (e.type) {
      case kMipExtMnHaAuth:
      case kMipExtMnFaAuth:
      case kMipExtFaHaAuth: {
        MipAuthExt& a = e.type == kMipExtMnHaAuth   ? x.mn_ha
                        : e.type == kMipExtMnFaAuth ? x.mn_fa
                                                    : x.fa_ha;
        if (e.length < kMipAuthSpiLen) return MipError::kBadExtLength;
        if (a.present) return MipError::kDuplicateExt;
        a.present = true;
        a.offset = e.offset;
        a.spi = load_be32(d.data());
        a.authenticator = d.subspan(kMipAuthSpiLen);
        break;
      }
      case kMipExtNai:  /* RFC 2794: the NAI, no terminator */
        if (e.length == 0) return MipError::kBadExtLength;
        if (x.has_nai) return MipError::kDuplicateExt;
        x.has_nai = true;
        x.nai = d;
        break;
      case kMipExtUdpTunReq:  /* RFC 3519 3.1 */
        if (e.length != kMipUdpTunExtLen) return MipError::kBadExtLength;
        if (x.has_udp_tun_req) return MipError::kDuplicateExt;
        x.has_udp_tun_req = true;
        x.udp_tun_req = MipUdpTunnelReq{
            .sub_type = u8(d, 0),
            .reserved1 = u8(d, 1),
            .f = (u8(d, 2) & kMipUdpTunReqF) != 0,
            .r = (u8(d, 2) & kMipUdpTunReqR) != 0,
            .reserved2 = static_cast<uint8_t>(u8(d, 2) & 0x3f),
            .encap = u8(d, 3),
            .reserved3 = load_be16(&d[4])};
        break;
      case kMipExtUdpTunReply: {  /* RFC 3519 3.2 */
        if (e.length != kMipUdpTunExtLen) return MipError::kBadExtLength;
        if (x.has_udp_tun_rep) return MipError::kDuplicateExt;
        x.has_udp_tun_rep = true;
        const uint16_t fl = load_be16(&d[2]);
        x.udp_tun_rep = MipUdpTunnelRep{.sub_type = u8(d, 0),
                                        .code = u8(d, 1),
                                        .f = (fl & kMipUdpTunRepF) != 0,
                                        .reserved = static_cast<uint16_t>(fl & 0x7fff),
                                        .keepalive = load_be16(&d[4])};
        break;
      }
      case kMipExtRevSupport: {  /* RFC 3543 3.2 */
        if (e.length != kMipRevSupportLen) return MipError::kBadExtLength;
        if (x.has_rev_support) return MipError::kDuplicateExt;
        x.has_rev_support = true;
        const uint16_t fl = load_be16(&d[0]);
        x.rev_support = MipRevSupport{.i = (fl & kMipRevSupportI) != 0,
                                      .reserved = static_cast<uint16_t>(fl & 0x7fff),
                                      .timestamp = load_be32(&d[2])};
        break;
      }
      case kMipExtTnc:
        /* RFC 5265 3.4: length 2, sub-type 0; the reserved byte is
         * ignored. Anything else under 149 is not TNC: skip it. */
        if (e.length == kMipTncLen && e.sub_type == 0) {
          if (!x.tnc) {
            x.tnc = true;
            x.tnc_offset = e.offset;
          }
        } else {
          ++x.skipped;
        }
        break;
      default:  /* unknown skippable (RFC 5944 1.8) */
        ++x.skipped;
        break;
    }
  }
  if (w.error() != MipError::kOk) return w.error();
  /* The first TNC counts as covered only if it ends before the MN-HA
   * authentication extension begins. A later TNC that is covered does
   * not exist when the first one is not: the first lies before it. */
  x.tnc_before_auth = x.tnc && mip_covered_by_mn_ha(x, x.tnc_offset + 2u + kMipTncLen);
  return x;
}

std::byte* MipMsgBuilder::ext(uint8_t type, size_t len) noexcept {
  if (err_ != MipError::kOk) return nullptr;
  if (!fixed_) {
    err_ = MipError::kNoFixedPart;
    return nullptr;
  }
  if (len > 0xff) {
    err_ = MipError::kBadExtLength;
    return nullptr;
  }
  if (buf_.size() - len_ < 2 + len) {
    err_ = MipError::kNoRoom;
    return nullptr;
  }
  if (len_ + 2 + len > 0xffff) {
    err_ = MipError::kTooBig;
    return nullptr;
  }
  std::byte* p = buf_.data() + len_;
  p[0] = std::byte(type);
  p[1] = std::byte(len);
  last_ext_ = len_;
  len_ += static_cast<uint32_t>(2 + len);
  return p + 2;
}

MipError MipMsgBuilder::request(const MipRequest& r) noexcept {
  if (err_ != MipError::kOk) return err_;
  if (buf_.size() < kMipRequestLen) return err_ = MipError::kNoRoom;
  auto* h = header_at<MipRequestHdr>(buf_.data());
  h->type = kMipTypeRegRequest;
  h->flags = r.flags();
  h->lifetime = be16::from_host(r.lifetime);
  h->home_addr = be32::from_host(r.home_addr.host());
  h->home_agent = be32::from_host(r.home_agent.host());
  h->care_of = be32::from_host(r.care_of.host());
  h->id_hi = be32::from_host(static_cast<uint32_t>(r.id >> 32));
  h->id_lo = be32::from_host(static_cast<uint32_t>(r.id));
  len_ = kMipRequestLen;
  fixed_ = true;
  return MipError::kOk;
}

MipError MipMsgBuilder::reply(const MipReply& r) noexcept {
  if (err_ != MipError::kOk) return err_;
  if (buf_.size() < kMipReplyLen) return err_ = MipError::kNoRoom;
  auto* h = header_at<MipReplyHdr>(buf_.data());
  h->type = kMipTypeRegReply;
  h->code = r.code;
  h->lifetime = be16::from_host(r.lifetime);
  h->home_addr = be32::from_host(r.home_addr.host());
  h->home_agent = be32::from_host(r.home_agent.host());
  h->id_hi = be32::from_host(static_cast<uint32_t>(r.id >> 32));
  h->id_lo = be32::from_host(static_cast<uint32_t>(r.id));
  len_ = kMipReplyLen;
  fixed_ = true;
  return MipError::kOk;
}

MipError MipMsgBuilder::add_raw(uint8_t type, cbytes data) noexcept {
  std::byte* p = ext(type, data.size());
  if (!p) return err_;
  if (!data.empty()) std::memcpy(p, data.data(), data.size());
  return MipError::kOk;
}

MipError MipMsgBuilder::add_nai(std::string_view nai) noexcept {
  if (nai.empty() && err_ == MipError::kOk) return err_ = MipError::kBadExtLength;
  return add_raw(kMipExtNai, cbytes(reinterpret_cast<const std::byte*>(nai.data()), nai.size()));
}

MipError MipMsgBuilder::add_udp_tunnel_request(const MipUdpTunnelReq& r) noexcept {
  std::byte* p = ext(kMipExtUdpTunReq, kMipUdpTunExtLen);
  if (!p) return err_;
  p[0] = std::byte(r.sub_type);
  p[1] = std::byte(r.reserved1);
  p[2] = std::byte((r.f ? kMipUdpTunReqF : 0) | (r.r ? kMipUdpTunReqR : 0) | (r.reserved2 & 0x3f));
  p[3] = std::byte(r.encap);
  store_be16(p + 4, r.reserved3);
  return MipError::kOk;
}

MipError MipMsgBuilder::add_udp_tunnel_reply(const MipUdpTunnelRep& r) noexcept {
  std::byte* p = ext(kMipExtUdpTunReply, kMipUdpTunExtLen);
  if (!p) return err_;
  p[0] = std::byte(r.sub_type);
  p[1] = std::byte(r.code);
  store_be16(p + 2, static_cast<uint16_t>((r.f ? kMipUdpTunRepF : 0) | (r.reserved & 0x7fff)));
  store_be16(p + 4, r.keepalive);
  return MipError::kOk;
}

MipError MipMsgBuilder::add_revocation_support(const MipRevSupport& r) noexcept {
  std::byte* p = ext(kMipExtRevSupport, kMipRevSupportLen);
  if (!p) return err_;
  store_be16(p, static_cast<uint16_t>((r.i ? kMipRevSupportI : 0) | (r.reserved & 0x7fff)));
  store_be32(p + 2, r.timestamp);
  return MipError::kOk;
}

MipError MipMsgBuilder::add_tnc(uint8_t sub_type) noexcept {
  std::byte* p = ext(kMipExtTnc, kMipTncLen);
  if (!p) return err_;
  p[0] = std::byte(sub_type);
  p[1] = std::byte{0};  /* reserved: sent as 0 (RFC 5265 3.4) */
  return MipError::kOk;
}

MipError MipMsgBuilder::add_auth(uint8_t type, uint32_t spi, cbytes authenticator) noexcept {
  std::byte* p = ext(type, kMipAuthSpiLen + authenticator.size());
  if (!p) return err_;
  store_be32(p, spi);
  if (!authenticator.empty()) std::memcpy(p + kMipAuthSpiLen, authenticator.data(), authenticator.size());
  return MipError::kOk;
}

}  // namespace mipvpn
