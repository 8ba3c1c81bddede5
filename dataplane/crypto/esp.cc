/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP engine control side: the suite table, the per-lcore engine, SA
 * creation (validation, key expansion, HMAC precompute, header template).
 * Nothing here runs per packet.
 */
#include <sys/random.h>

#include <cerrno>
#include <cstring>

#include "codec/esp.h"
#include "codec/ipv4.h"
#include "codec/udp.h"
#include "crypto/esp_sa.h"

namespace mipvpn {

namespace {

/* name, cipher, auth, key, salt, auth key, iv, icv, block */
constexpr EspSuite kSuites[] = {
    /* RFC 4106: 8-byte explicit IV, 16-byte ICV, 4-byte salt (8.1). */
    {"aes-128-gcm", EspCipher::kAesGcm, EspAuth::kNone, 16, 4, 0, 8, 16, 4},
    {"aes-256-gcm", EspCipher::kAesGcm, EspAuth::kNone, 32, 4, 0, 8, 16, 4},
    /* RFC 3602 (16-byte IV and block) with RFC 2404 HMAC-SHA1-96. */
    {"aes-128-cbc-sha1", EspCipher::kAesCbc, EspAuth::kHmacSha1_96, 16, 0, 20, 16, 12, 16},
    {"aes-256-cbc-sha1", EspCipher::kAesCbc, EspAuth::kHmacSha1_96, 32, 0, 20, 16, 12, 16},
    /* RFC 4868 HMAC-SHA-256-128 (32-byte key). */
    {"aes-128-cbc-sha256", EspCipher::kAesCbc, EspAuth::kHmacSha256_128, 16, 0, 32, 16, 16, 16},
    {"aes-256-cbc-sha256", EspCipher::kAesCbc, EspAuth::kHmacSha256_128, 32, 0, 32, 16, 16, 16},
    /* RFC 2410 NULL encryption: no IV, 4-byte alignment. */
    {"null-sha1", EspCipher::kNull, EspAuth::kHmacSha1_96, 0, 0, 20, 0, 12, 4},
    {"null-sha256", EspCipher::kNull, EspAuth::kHmacSha256_128, 0, 0, 32, 0, 16, 4},
};

/* RAII for the throwaway manager SA creation expands keys with. */
struct MgrHolder {
  IMB_MGR* m = nullptr;
  ~MgrHolder() {
    if (m) free_mb_mgr(m);
  }
};

bool fill_random(uint8_t* p, size_t n) {
  while (n) {
    const ssize_t r = getrandom(p, n, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

std::string hex32(uint32_t v) {
  static const char* d = "0123456789abcdef";
  std::string s = "0x";
  for (int i = 28; i >= 0; i -= 4) s += d[(v >> i) & 15];
  return s;
}

bool fail(std::string* err, std::string msg) {
  if (err) *err = std::move(msg);
  return false;
}

bool validate(const EspSaConfig& c, std::string* err) {
  const EspSuite* s = c.suite;
  if (!s) return fail(err, "the SA has no cipher suite; name one of aes-128-gcm, aes-256-gcm, "
                           "aes-128-cbc-sha1, aes-256-cbc-sha1, aes-128-cbc-sha256, "
                           "aes-256-cbc-sha256, null-sha1, null-sha256");
  const std::string n(s->name);
  if (c.spi < kEspMinSpi)
    return fail(err, "SPI " + std::to_string(c.spi) +
                         " is reserved (RFC 4303 2.1: 0 is for local use, 1..255 are "
                         "reserved); use a value of 256 or more");
  const size_t want_ck = size_t{s->key_len} + s->salt_len;
  if (c.cipher_key.size() != want_ck) {
    if (s->cipher == EspCipher::kNull)
      return fail(err, n + " uses NULL encryption and takes no cipher key, but " +
                           std::to_string(c.cipher_key.size()) + " bytes were given");
    if (s->cipher == EspCipher::kAesGcm)
      return fail(err, n + " needs a " + std::to_string(want_ck) + "-byte cipher key (" +
                           std::to_string(s->key_len) + "-byte AES key followed by the " +
                           std::to_string(s->salt_len) + "-byte salt, RFC 4106 8.1), got " +
                           std::to_string(c.cipher_key.size()) + " bytes");
    return fail(err, n + " needs a " + std::to_string(want_ck) + "-byte AES key, got " +
                         std::to_string(c.cipher_key.size()) + " bytes");
  }
  if (c.auth_key.size() != s->auth_key_len) {
    if (s->auth == EspAuth::kNone)
      return fail(err, n + " is an AEAD (its integrity comes with the cipher) and takes no "
                           "integrity key, but " + std::to_string(c.auth_key.size()) +
                           " bytes were given");
    return fail(err, n + " needs a " + std::to_string(s->auth_key_len) +
                         "-byte integrity key (" +
                         (s->auth == EspAuth::kHmacSha1_96 ? "RFC 2404" : "RFC 4868") +
                         "), got " + std::to_string(c.auth_key.size()) + " bytes");
  }
  if (c.dir == EspDir::kInbound) {
    if (c.replay_window != 0 &&
        (c.replay_window < ReplayWindow::kMinSize || c.replay_window > ReplayWindow::kMaxSize))
      return fail(err, "replay window " + std::to_string(c.replay_window) +
                           " is out of range: use 0 (no replay check) or 64 to 4096 packets");
  } else {
    if (c.tun_src.host() == 0 || c.tun_dst.host() == 0)
      return fail(err, "outbound SA " + hex32(c.spi) +
                           " needs both tunnel endpoint addresses (tun_src and tun_dst)");
    if (c.ttl == 0) return fail(err, "outer TTL 0 would be dropped by the first router; use 1 to 255");
    if (c.seq_start == 0)
      return fail(err, "sequence number 0 is never sent (RFC 4303 3.3.3); start at 1");
    if (!c.esn && c.seq_start > 0xffffffffull)
      return fail(err, "first sequence number " + std::to_string(c.seq_start) +
                           " does not fit in 32 bits; enable ESN (RFC 4304) or start lower");
  }
  if ((c.natt_sport == 0) != (c.natt_dport == 0))
    return fail(err, "UDP encapsulation (RFC 3948) needs both ports set, or neither; got source " +
                         std::to_string(c.natt_sport) + " and destination " +
                         std::to_string(c.natt_dport));
  return true;
}

}  // namespace

std::span<const EspSuite> esp_suites() noexcept { return kSuites; }

const EspSuite* esp_suite_by_name(std::string_view name) noexcept {
  for (const auto& s : kSuites)
    if (s.name == name) return &s;
  return nullptr;
}

std::string_view to_string(EspDrop d) noexcept {
  switch (d) {
    case EspDrop::kNone: return "none";
    case EspDrop::kBadOuter: return "bad_outer";
    case EspDrop::kTruncated: return "truncated";
    case EspDrop::kSpiMismatch: return "spi_mismatch";
    case EspDrop::kBadAlignment: return "bad_alignment";
    case EspDrop::kAuthFailed: return "auth_failed";
    case EspDrop::kReplayed: return "replayed";
    case EspDrop::kTooOld: return "too_old";
    case EspDrop::kBadPadding: return "bad_padding";
    case EspDrop::kBadPadLength: return "bad_pad_length";
    case EspDrop::kBadNextHeader: return "bad_next_header";
    case EspDrop::kDummy: return "dummy";
    case EspDrop::kBadInner: return "bad_inner";
    case EspDrop::kSeqOverflow: return "seq_overflow";
    case EspDrop::kNoRoom: return "no_room";
    case EspDrop::kTooBig: return "too_big";
    case EspDrop::kNotIpv4: return "not_ipv4";
    case EspDrop::kCryptoError: return "crypto_error";
    case EspDrop::kCount: break;
  }
  return "unknown";
}

/* ---- engine ---- */

std::unique_ptr<EspEngine> EspEngine::create(std::string* err) {
  std::unique_ptr<EspEngine> e(new EspEngine());
  e->mgr_ = alloc_mb_mgr(0);
  if (!e->mgr_) {
    if (err) *err = "cannot allocate an IPsec-MB manager (out of memory)";
    return nullptr;
  }
  IMB_ARCH arch = IMB_ARCH_NONE;
  init_mb_mgr_auto(e->mgr_, &arch);
  if (const int rc = imb_get_errno(e->mgr_); rc != 0 || arch == IMB_ARCH_NONE) {
    if (err) *err = std::string("IPsec-MB could not initialise for this CPU: ") + imb_get_strerror(rc);
    return nullptr;
  }
  e->arch_ = static_cast<uint8_t>(arch);
  e->scratch_ = new EspScratch();
  return e;
}

EspEngine::~EspEngine() {
  delete scratch_;
  if (mgr_) free_mb_mgr(mgr_);
}

std::string_view EspEngine::arch() const noexcept {
  switch (static_cast<IMB_ARCH>(arch_)) {
    case IMB_ARCH_NOAESNI: return "noaesni";
    case IMB_ARCH_SSE: return "sse";
    case IMB_ARCH_AVX: return "avx";
    case IMB_ARCH_AVX2: return "avx2";
    case IMB_ARCH_AVX512: return "avx512";
    default: return "none";
  }
}

/* ---- SA ---- */

void esp_hmac_precompute(IMB_MGR* mgr, EspAuth auth, std::span<const uint8_t> key,
                         uint8_t ipad[32], uint8_t opad[32]) noexcept {
  constexpr size_t kBlock = 64;  /* SHA-1 and SHA-256 */
  alignas(16) uint8_t k[kBlock] = {};
  alignas(16) uint8_t buf[kBlock];
  const bool sha1 = auth == EspAuth::kHmacSha1_96;
  /* RFC 2104 section 2: a key longer than the block is hashed first. */
  if (key.size() > kBlock) {
    if (sha1)
      IMB_SHA1(mgr, key.data(), key.size(), k);
    else
      IMB_SHA256(mgr, key.data(), key.size(), k);
  } else if (!key.empty()) {
    std::memcpy(k, key.data(), key.size());
  }
  for (size_t i = 0; i < kBlock; ++i) buf[i] = k[i] ^ 0x36;
  if (sha1)
    IMB_SHA1_ONE_BLOCK(mgr, buf, ipad);
  else
    IMB_SHA256_ONE_BLOCK(mgr, buf, ipad);
  for (size_t i = 0; i < kBlock; ++i) buf[i] = k[i] ^ 0x5c;
  if (sha1)
    IMB_SHA1_ONE_BLOCK(mgr, buf, opad);
  else
    IMB_SHA256_ONE_BLOCK(mgr, buf, opad);
  explicit_bzero(k, sizeof k);
  explicit_bzero(buf, sizeof buf);
}

EspSa::EspSa(std::unique_ptr<EspSaImpl> impl) : impl_(std::move(impl)) {}

EspSa::~EspSa() {
  if (impl_) explicit_bzero(&impl_->keys, sizeof impl_->keys);
}

std::unique_ptr<EspSa> EspSa::create(const EspSaConfig& cfg, std::string* err) {
  if (!validate(cfg, err)) return nullptr;
  const EspSuite& s = *cfg.suite;

  MgrHolder mh;
  mh.m = alloc_mb_mgr(0);
  if (!mh.m) {
    if (err) *err = "cannot allocate an IPsec-MB manager (out of memory)";
    return nullptr;
  }
  /* The same architecture choice as EspEngine::create makes, so the GCM
   * key data (whose hash-key layout is per architecture) matches. */
  init_mb_mgr_auto(mh.m, nullptr);
  if (const int rc = imb_get_errno(mh.m); rc != 0) {
    if (err) *err = std::string("IPsec-MB could not initialise: ") + imb_get_strerror(rc);
    return nullptr;
  }

  auto impl = std::make_unique<EspSaImpl>();
  EspSaImpl& im = *impl;
  im.suite = &s;
  im.dir = cfg.dir;
  im.cfg = cfg;
  im.cfg.cipher_key = {};
  im.cfg.auth_key = {};

  EspSaHot& h = im.hot;
  h.spi = cfg.spi;
  h.spi_be = be32::from_host(cfg.spi);
  h.cipher = s.cipher;
  h.auth = s.auth;
  h.key_len = s.key_len;
  h.iv_len = s.iv_len;
  h.icv_len = s.icv_len;
  h.align = s.block > 4 ? s.block : 4;
  h.esn = cfg.esn;
  h.natt = cfg.natt_sport != 0;
  h.natt_sport = cfg.natt_sport;
  h.natt_dport = cfg.natt_dport;
  h.outer_len = static_cast<uint8_t>(kIpv4HdrLen + (h.natt ? kUdpHdrLen : 0));
  h.hdr_len = static_cast<uint8_t>(h.outer_len + kEspHdrLen + s.iv_len);
  h.keys = &im.keys;
  h.stats = &im.stats;
  h.imb_key_len = s.key_len == 32 ? IMB_KEY_256_BYTES : IMB_KEY_128_BYTES;
  h.seq.store(cfg.seq_start, std::memory_order_relaxed);

  EspKeys& k = im.keys;
  switch (s.cipher) {
    case EspCipher::kAesGcm:
      h.imb_cipher = IMB_CIPHER_GCM;
      if (s.key_len == 16)
        IMB_AES128_GCM_PRE(mh.m, cfg.cipher_key.data(), &k.gcm);
      else
        IMB_AES256_GCM_PRE(mh.m, cfg.cipher_key.data(), &k.gcm);
      std::memcpy(h.salt, cfg.cipher_key.data() + s.key_len, 4);
      break;
    case EspCipher::kAesCbc: {
      h.imb_cipher = IMB_CIPHER_CBC;
      if (s.key_len == 16)
        IMB_AES_KEYEXP_128(mh.m, cfg.cipher_key.data(), k.enc, k.dec);
      else
        IMB_AES_KEYEXP_256(mh.m, cfg.cipher_key.data(), k.enc, k.dec);
      if (cfg.dir == EspDir::kOutbound) {
        /* A random key for the IV generator, see esp_outb.cc. */
        alignas(16) uint8_t ivk[16];
        alignas(16) uint8_t unused[kAesRoundKeysLen];
        if (!fill_random(ivk, sizeof ivk)) {
          if (err) *err = std::string("cannot read random bytes for the CBC IV key: ") + std::strerror(errno);
          return nullptr;
        }
        IMB_AES_KEYEXP_128(mh.m, ivk, k.iv_enc, unused);
        explicit_bzero(ivk, sizeof ivk);
        explicit_bzero(unused, sizeof unused);
      }
      break;
    }
    case EspCipher::kNull:
      h.imb_cipher = IMB_CIPHER_NULL;
      break;
  }
  switch (s.auth) {
    case EspAuth::kNone: h.imb_hash = IMB_AUTH_NULL; break;
    case EspAuth::kHmacSha1_96: h.imb_hash = IMB_AUTH_HMAC_SHA_1; break;
    case EspAuth::kHmacSha256_128: h.imb_hash = IMB_AUTH_HMAC_SHA_256; break;
  }
  if (s.auth != EspAuth::kNone) esp_hmac_precompute(mh.m, s.auth, cfg.auth_key, k.ipad, k.opad);

  if (cfg.dir == EspDir::kInbound) {
    im.replay = std::make_unique<ReplayWindow>(cfg.replay_window, cfg.esn);
    h.replay = im.replay.get();
  } else {
    /* Outer header template (RFC 4301 5.1.2.1): fixed fields now; TOS, DF,
     * ID, total length and checksum per packet from the partial sum. */
    auto* t = reinterpret_cast<std::byte*>(h.hdr_tmpl);
    Ipv4Build b;
    b.src = cfg.tun_src;
    b.dst = cfg.tun_dst;
    b.ttl = cfg.ttl;
    b.proto = h.natt ? kIpProtoUdp : kIpProtoEsp;
    ipv4_build(bytes(t, kIpv4HdrLen), b);
    /* Variable fields zero: TOS, total length, ID, flags (DF), checksum. */
    std::memset(t + 1, 0, 7);
    auto* ip = header_at<Ipv4Hdr>(t);
    ip->csum = be16{};
    h.outer_sum = csum_partial(cbytes(t, kIpv4HdrLen));
    if (h.natt) {
      /* RFC 3948 2.1: UDP checksum sent as zero. */
      auto* u = header_at<UdpHdr>(t + kIpv4HdrLen);
      u->sport = be16::from_host(cfg.natt_sport);
      u->dport = be16::from_host(cfg.natt_dport);
      u->len = be16{};
      u->csum = be16{};
    }
    std::memcpy(t + h.outer_len, &h.spi_be, 4);  /* sequence number: 0 */
    h.tmpl_off2 = static_cast<uint8_t>(h.outer_len - 8);
    h.max_plen = static_cast<uint16_t>(65535u - h.hdr_len - h.icv_len);
  }
  return std::unique_ptr<EspSa>(new EspSa(std::move(impl)));
}

uint32_t EspSa::spi() const noexcept { return impl_->hot.spi; }
EspDir EspSa::dir() const noexcept { return impl_->dir; }
const EspSuite& EspSa::suite() const noexcept { return *impl_->suite; }
const EspSaStats& EspSa::stats() const noexcept { return impl_->stats; }

uint32_t EspSa::max_overhead() const noexcept {
  const EspSaHot& h = impl_->hot;
  return uint32_t{h.hdr_len} + (h.align - 1u) + kEspTrailerLen + h.icv_len;
}

uint64_t EspSa::next_seq() const noexcept {
  return impl_->hot.seq.load(std::memory_order_relaxed);
}

}  // namespace mipvpn
