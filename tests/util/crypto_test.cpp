#include "util/crypto.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>

namespace igb::util {
namespace {

bool is_lower_hex(const std::string& s) { return s.find_first_not_of("0123456789abcdef") == std::string::npos; }

TEST(Crypto, Sha256HexMatchesKnownVectors) {
  // FIPS 180-2 examples; the second call reuses the thread's digest context.
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, ToHex) {
  EXPECT_EQ(to_hex(std::string("\x00\x0f\xa0\xff", 4)), "000fa0ff");
  EXPECT_EQ(to_hex(""), "");
}

TEST(Crypto, RandomIdHexNeverRepeatsAcrossBlocksAndThreads) {
  // 6 bytes per id: a 512-byte block lasts 85 ids, so this crosses many refills.
  std::set<std::string> seen;
  for (int i = 0; i < 5000; ++i) {
    auto id = random_id_hex(6);
    ASSERT_EQ(id.size(), 12u);
    ASSERT_TRUE(is_lower_hex(id)) << id;
    ASSERT_TRUE(seen.insert(id).second) << "repeated " << id;
  }
  std::set<std::string> other;
  std::thread([&other] {
    for (int i = 0; i < 1000; ++i) other.insert(random_id_hex(6));
  }).join();
  for (const auto& id : other) EXPECT_EQ(seen.count(id), 0u) << "another thread drew " << id;
  EXPECT_EQ(random_id_hex(600).size(), 1200u);  // larger than a block: straight from RAND_bytes
}

}  // namespace
}  // namespace igb::util
