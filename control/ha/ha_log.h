/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rate-limited log lines for events an attacker can cause at line rate
 * (RFC 5265 4.3: requests from untrusted sources SHOULD be logged). A
 * token bucket with explicit time: `burst` lines at once, then `rate`
 * lines per second; lines over the limit are counted, and the next line
 * that gets through says how many were suppressed before it.
 *
 * The sink is a callback so tests capture the lines; the daemon points it
 * at its logger. No allocation when a line is suppressed.
 */
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace mipvpn {

using HaLogSink = std::function<void(std::string_view line)>;

class RateLimitedLog {
 public:
  RateLimitedLog(uint32_t rate_per_s = 1, uint32_t burst = 5) noexcept
      : rate_(rate_per_s), burst_(burst ? burst : 1), tokens_(burst ? burst : 1) {}

  void set_sink(HaLogSink s) { sink_ = std::move(s); }

  /* May a line be written at now_s (seconds, any monotonic origin)? When
   * not, the line is counted as suppressed. */
  bool admit(uint64_t now_s) noexcept {
    if (have_last_ && now_s > last_s_) {
      const uint64_t add = (now_s - last_s_) * rate_;
      tokens_ = add >= burst_ - tokens_ ? burst_ : tokens_ + static_cast<uint32_t>(add);
    }
    if (!have_last_ || now_s > last_s_) last_s_ = now_s;
    have_last_ = true;
    if (tokens_ == 0) {
      ++suppressed_;
      ++suppressed_total_;
      return false;
    }
    --tokens_;
    return true;
  }

  /* Write a line admitted by admit(); it carries the suppressed count. */
  void write(std::string_view line) {
    ++written_;
    if (!sink_) {
      suppressed_ = 0;
      return;
    }
    if (suppressed_) {
      std::string l(line);
      l += " (suppressed ";
      l += std::to_string(suppressed_);
      l += " similar lines)";
      suppressed_ = 0;
      sink_(l);
    } else {
      sink_(line);
    }
  }

  uint64_t written() const noexcept { return written_; }
  uint64_t suppressed_total() const noexcept { return suppressed_total_; }

 private:
  uint32_t rate_, burst_, tokens_;
  uint64_t last_s_ = 0;
  bool have_last_ = false;
  uint64_t suppressed_ = 0, suppressed_total_ = 0, written_ = 0;
  HaLogSink sink_;
};

}  // namespace mipvpn
