/* SPDX-License-Identifier: BSD-3-Clause */
#include "mipvpnctl/json.h"

#include <cstdio>
#include <cstdlib>

namespace mipvpn {

const Json* Json::get(std::string_view key) const noexcept {
  for (const auto& [k, v] : obj)
    if (k == key) return &v;
  return nullptr;
}

std::string Json::text() const {
  switch (type) {
    case Type::kNull: return "null";
    case Type::kBool: return b ? "true" : "false";
    case Type::kUint: return std::to_string(u);
    case Type::kInt: return std::to_string(i);
    case Type::kDouble: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", d);
      return buf;
    }
    case Type::kString: return s;
    case Type::kArray:
    case Type::kObject: {
      char buf[48];
      std::snprintf(buf, sizeof buf, type == Type::kArray ? "[%zu items]" : "{%zu members}",
                    type == Type::kArray ? arr.size() : obj.size());
      return buf;
    }
  }
  return "";
}

namespace {

constexpr int kMaxDepth = 32;

class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in) {}

  std::optional<Json> run(std::string* err) {
    Json v;
    if (value(v, 0)) {
      ws();
      if (pos_ == in_.size()) return v;
      fail("text after the value");
    }
    if (err) *err = "offset " + std::to_string(pos_) + ": " + what_;
    return std::nullopt;
  }

 private:
  bool fail(const char* w) {
    if (what_.empty()) what_ = w;
    return false;
  }
  void ws() {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r'))
      ++pos_;
  }
  bool lit(std::string_view w) {
    if (in_.substr(pos_, w.size()) != w) return fail("bad literal");
    pos_ += w.size();
    return true;
  }
  bool value(Json& v, int depth) {
    if (depth > kMaxDepth) return fail("nested too deep");
    ws();
    if (pos_ >= in_.size()) return fail("unexpected end");
    const char c = in_[pos_];
    if (c == '{') return object(v, depth);
    if (c == '[') return array(v, depth);
    if (c == '"') {
      v.type = Json::Type::kString;
      return string(v.s);
    }
    if (c == 't') return v.type = Json::Type::kBool, v.b = true, lit("true");
    if (c == 'f') return v.type = Json::Type::kBool, v.b = false, lit("false");
    if (c == 'n') return v.type = Json::Type::kNull, lit("null");
    if (c == '-' || (c >= '0' && c <= '9')) return number(v);
    return fail("unexpected character");
  }
  bool object(Json& v, int depth) {
    v.type = Json::Type::kObject;
    ++pos_;
    ws();
    if (pos_ < in_.size() && in_[pos_] == '}') return ++pos_, true;
    for (;;) {
      ws();
      if (pos_ >= in_.size() || in_[pos_] != '"') return fail("expected a member name");
      std::string k;
      if (!string(k)) return false;
      ws();
      if (pos_ >= in_.size() || in_[pos_] != ':') return fail("expected ':'");
      ++pos_;
      Json m;
      if (!value(m, depth + 1)) return false;
      v.obj.emplace_back(std::move(k), std::move(m));
      ws();
      if (pos_ >= in_.size()) return fail("unexpected end in an object");
      if (in_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (in_[pos_] == '}') return ++pos_, true;
      return fail("expected ',' or '}'");
    }
  }
  bool array(Json& v, int depth) {
    v.type = Json::Type::kArray;
    ++pos_;
    ws();
    if (pos_ < in_.size() && in_[pos_] == ']') return ++pos_, true;
    for (;;) {
      Json m;
      if (!value(m, depth + 1)) return false;
      v.arr.push_back(std::move(m));
      ws();
      if (pos_ >= in_.size()) return fail("unexpected end in an array");
      if (in_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (in_[pos_] == ']') return ++pos_, true;
      return fail("expected ',' or ']'");
    }
  }
  static void utf8(std::string& o, uint32_t cp) {
    if (cp < 0x80) {
      o += static_cast<char>(cp);
    } else if (cp < 0x800) {
      o += static_cast<char>(0xc0 | (cp >> 6));
      o += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      o += static_cast<char>(0xe0 | (cp >> 12));
      o += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      o += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      o += static_cast<char>(0xf0 | (cp >> 18));
      o += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      o += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      o += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  bool hex4(uint32_t& cp) {
    if (pos_ + 4 > in_.size()) return fail("short \\u escape");
    cp = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = in_[pos_++];
      uint32_t d;
      if (h >= '0' && h <= '9') d = static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') d = static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') d = static_cast<uint32_t>(h - 'A' + 10);
      else return fail("bad \\u escape");
      cp = cp << 4 | d;
    }
    return true;
  }
  bool string(std::string& o) {
    ++pos_;  /* the quote */
    while (pos_ < in_.size()) {
      const char c = in_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in a string");
      if (c != '\\') {
        o += c;
        continue;
      }
      if (pos_ >= in_.size()) break;
      const char e = in_[pos_++];
      switch (e) {
        case '"': o += '"'; break;
        case '\\': o += '\\'; break;
        case '/': o += '/'; break;
        case 'b': o += '\b'; break;
        case 'f': o += '\f'; break;
        case 'n': o += '\n'; break;
        case 'r': o += '\r'; break;
        case 't': o += '\t'; break;
        case 'u': {
          uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xd800 && cp < 0xdc00) {
            uint32_t lo;
            if (in_.substr(pos_, 2) != "\\u") return fail("lone surrogate");
            pos_ += 2;
            if (!hex4(lo) || lo < 0xdc00 || lo > 0xdfff) return fail("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            return fail("lone surrogate");
          }
          utf8(o, cp);
          break;
        }
        default: return fail("bad escape");
      }
    }
    return fail("unterminated string");
  }
  bool number(Json& v) {
    const size_t b = pos_;
    bool neg = false, frac = false;
    if (in_[pos_] == '-') neg = true, ++pos_;
    if (pos_ >= in_.size() || in_[pos_] < '0' || in_[pos_] > '9') return fail("bad number");
    if (in_[pos_] == '0' && pos_ + 1 < in_.size() && in_[pos_ + 1] >= '0' && in_[pos_ + 1] <= '9')
      return fail("leading zero");
    while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
    if (pos_ < in_.size() && in_[pos_] == '.') {
      frac = true;
      ++pos_;
      if (pos_ >= in_.size() || in_[pos_] < '0' || in_[pos_] > '9') return fail("bad fraction");
      while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
    }
    if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
      frac = true;
      ++pos_;
      if (pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-')) ++pos_;
      if (pos_ >= in_.size() || in_[pos_] < '0' || in_[pos_] > '9') return fail("bad exponent");
      while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
    }
    const std::string t(in_.substr(b, pos_ - b));
    v.d = std::strtod(t.c_str(), nullptr);
    if (frac) {
      v.type = Json::Type::kDouble;
      return true;
    }
    const std::string_view digits = std::string_view(t).substr(neg ? 1 : 0);
    uint64_t m = 0;
    bool big = digits.size() > 20;
    for (char c : digits) {
      const uint64_t d = static_cast<uint64_t>(c - '0');
      if (m > (UINT64_MAX - d) / 10) big = true;
      if (big) break;
      m = m * 10 + d;
    }
    if (big) {
      v.type = Json::Type::kDouble;
    } else if (!neg) {
      v.type = Json::Type::kUint;
      v.u = m;
    } else if (m <= static_cast<uint64_t>(INT64_MAX) + 1) {
      v.type = Json::Type::kInt;
      v.i = m == static_cast<uint64_t>(INT64_MAX) + 1 ? INT64_MIN : -static_cast<int64_t>(m);
    } else {
      v.type = Json::Type::kDouble;
    }
    return true;
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::string what_;
};

}  // namespace

std::optional<Json> json_parse(std::string_view in, std::string* err) { return Parser(in).run(err); }

}  // namespace mipvpn
