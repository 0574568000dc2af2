#include "util/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>

namespace igb::util {

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[c >> 4];
    out[2 * i + 1] = kDigits[c & 0xF];
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // Fetched once: EVP_sha256() makes OpenSSL 3 look the implementation up again on every call, and
  // one context per thread instead of one per call (EVP_Digest's): both showed in profiles of API
  // key checks.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (sha256 == nullptr || ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), sha256, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1) {
    throw std::runtime_error("sha256 failed");
  }
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), len));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), out, &len) == nullptr) {
    throw std::runtime_error("hmac failed");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

std::string random_hex(std::size_t n) { return to_hex(random_bytes(n)); }

std::string random_id_hex(std::size_t n) {
  constexpr std::size_t kBlock = 512;
  thread_local std::string block;
  thread_local std::size_t used = 0;
  if (n > kBlock) return random_hex(n);
  if (block.size() - used < n) {
    block = random_bytes(kBlock);
    used = 0;
  }
  auto out = to_hex(std::string_view(block).substr(used, n));
  used += n;
  return out;
}

namespace {

std::string encode_base64(std::string_view bytes, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  auto b = [&](std::size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(bytes[k])); };
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    out += {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63], alphabet[v & 63]};
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    unsigned v = (b(i) << 16) | (rest == 2 ? b(i + 1) << 8 : 0);
    out += {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63]};
    if (rest == 2) out += alphabet[(v >> 6) & 63];
    if (pad) out.append(3 - rest, '=');
  }
  return out;
}

}  // namespace

std::string base64url(std::string_view bytes) {
  return encode_base64(bytes, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", false);
}

std::string base64(std::string_view bytes) {
  return encode_base64(bytes, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", true);
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  EVP_ENCODE_CTX* ctx = EVP_ENCODE_CTX_new();
  if (ctx == nullptr) throw std::runtime_error("EVP_ENCODE_CTX_new failed");
  EVP_DecodeInit(ctx);
  int len = 0, tail = 0;
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  int rc = EVP_DecodeUpdate(ctx, dst, &len, reinterpret_cast<const unsigned char*>(text.data()),
                            static_cast<int>(text.size()));
  int rc2 = rc < 0 ? -1 : EVP_DecodeFinal(ctx, dst + len, &tail);
  EVP_ENCODE_CTX_free(ctx);
  if (rc < 0 || rc2 < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(len) + static_cast<std::size_t>(tail));
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace igb::util
