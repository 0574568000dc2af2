// The prompt policy: the normaliser (case, marks, look-alikes, digits, separators) and the matcher
// (whole words, repeats, prefixes, several words), on lists of the test's own and on the built-in
// lists (evasions caught, innocent words pass).
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "core/prompt_policy.hpp"

namespace igb::core {
namespace {

PromptPolicy policy(std::string base, std::string strict = {}) {
  std::array<PolicyList, 1> b{PolicyList{"base.txt", std::move(base)}};
  std::array<PolicyList, 1> s{PolicyList{"group.txt", std::move(strict)}};
  auto parsed = PromptPolicy::parse(b, s);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().public_message);
  return std::move(parsed).value();
}

TEST(Normalise, FoldsCaseMarksAndLookAlikes) {
  EXPECT_EQ(normalise("Hello, World"), "heiio worid");  // l is read as i
  EXPECT_EQ(normalise("wow!"), "wowi");                 // "!" may stand for i (the matcher also tries "wow")
  EXPECT_EQ(normalise("NUDE"), "nude");
  EXPECT_EQ(normalise("Nüdé"), "nude");
  EXPECT_EQ(normalise("nu\u0301de"), "nude");    // a combining acute
  EXPECT_EQ(normalise("nu\u200Bde"), "nude");    // a zero-width space
  EXPECT_EQ(normalise("nu\u00ADde"), "nude");    // a soft hyphen
  EXPECT_EQ(normalise("ｎｕｄｅ"), "nude");      // fullwidth
  EXPECT_EQ(normalise("𝐧𝐮𝐝𝐞"), "nude");          // mathematical bold
  EXPECT_EQ(normalise("ⓝⓤⓓⓔ"), "nude");          // circled
  EXPECT_EQ(normalise("n0d3 p@$$"), "node pass");
  EXPECT_EQ(normalise("Straße"), "strasse");
  // Cyrillic: lower case, ё is е, look-alikes become their Latin twins, the rest stays Cyrillic.
  EXPECT_EQ(normalise("ЁЖ"), "eж");
  EXPECT_EQ(normalise("секс"), "cekc");
  EXPECT_EQ(normalise("сeкc"), "cekc");  // half Latin
  EXPECT_EQ(normalise("порно"), normalise("пoрнo"));
  EXPECT_EQ(normalise("Обнажённая"), normalise("обнаженная"));
  EXPECT_EQ(normalise("nΑΚΕd"), "naked");  // Greek capitals
}

TEST(Normalise, SeparatesWordsAndSurvivesBadBytes) {
  EXPECT_EQ(normalise("a cat, in snow."), "a cat in snow");
  EXPECT_EQ(normalise("n.u.d.e"), "n u d e");
  EXPECT_EQ(normalise(std::string("ab\xff\xfe"
                                  "cd")),
            "ab cd");      // invalid UTF-8 separates
  EXPECT_EQ(normalise(std::string("ab\xc0\xaf"
                                  "cd")),
            "ab cd");      // an overlong '/'
  EXPECT_EQ(normalise(std::string("ab\xed\xa0\x80"
                                  "cd")),
            "ab cd");  // a surrogate
  EXPECT_EQ(normalise("🔥fox🔥"), "fox");
  EXPECT_EQ(normalise(""), "");
  EXPECT_EQ(normalised_words("猫 in snow").size(), 3u);  // other scripts are letters as they are
}

TEST(PromptPolicyMatch, WholeWordsOnly) {
  auto p = policy("sex\nass\ncunt\n");
  EXPECT_TRUE(p.check("sex", PolicyLevel::base));
  EXPECT_TRUE(p.check("a photo, SEX!", PolicyLevel::base));
  for (const char* innocent : {"Sussex in spring", "Essex coast", "Middlesex", "sextant on a ship", "Scunthorpe",
                               "an assassin", "a bass guitar", "classic cars", "a cat as a king", "sexy"}) {
    EXPECT_FALSE(p.check(innocent, PolicyLevel::base)) << innocent;
  }
}

TEST(PromptPolicyMatch, EvasionsAreCaught) {
  auto p = policy("nude\nchild porn\n");
  for (const char* evasion : {"n.u.d.e",
                              "n u d e",
                              "n-u-d-e",
                              "n_u_d_e",
                              "nu.de",
                              "nu-de",
                              "NuDe",
                              "nüde",
                              "nuuuude",
                              "nud3",
                              "nu\u200Bde",
                              "ｎｕｄｅ",
                              "𝐧𝐮𝐝𝐞",
                              "a n*u*d*e woman",
                              "\"nude\"",
                              "(nude)",
                              "nude!",
                              "nude!!!",
                              "nude1",
                              "childporn",
                              "child-porn",
                              "child   porn",
                              "c h i l d p o r n",
                              "Child.Porn",
                              "chi1d p0rn"}) {
    EXPECT_TRUE(p.check(evasion, PolicyLevel::base)) << evasion;
  }
  for (const char* innocent : {"nudge", "a nuded", "nu de", "childish portrait", "nudes"}) {
    EXPECT_FALSE(p.check(innocent, PolicyLevel::base)) << innocent;
  }
}

TEST(PromptPolicyMatch, RepeatsMustCoverTheTermsOwnDoubles) {
  auto p = policy("ass\n");
  EXPECT_TRUE(p.check("asss", PolicyLevel::base));
  EXPECT_TRUE(p.check("a$$", PolicyLevel::base));
  EXPECT_FALSE(p.check("as", PolicyLevel::base));
}

TEST(PromptPolicyMatch, PrefixTerms) {
  auto p = policy("porn*\nblow job*\n");
  EXPECT_TRUE(p.check("pornography", PolicyLevel::base));
  EXPECT_TRUE(p.check("p o r n o", PolicyLevel::base));
  EXPECT_TRUE(p.check("blow jobs", PolicyLevel::base));
  EXPECT_FALSE(p.check("a popcorn stand", PolicyLevel::base));
  EXPECT_FALSE(p.check("blow a job", PolicyLevel::base));
}

TEST(PromptPolicyMatch, CyrillicAndMixedScripts) {
  auto p = policy("секс\nпорн*\n");
  EXPECT_TRUE(p.check("секс", PolicyLevel::base));
  EXPECT_TRUE(p.check("СЕКС", PolicyLevel::base));
  EXPECT_TRUE(p.check("ceкс", PolicyLevel::base));  // Latin c and e
  EXPECT_TRUE(p.check("с.е.к.с", PolicyLevel::base));
  EXPECT_TRUE(p.check("порнография", PolicyLevel::base));
  EXPECT_TRUE(p.check("пoрн0", PolicyLevel::base));
  EXPECT_FALSE(p.check("сексот", PolicyLevel::base));  // whole words only
  EXPECT_FALSE(p.check("кот в сапогах", PolicyLevel::base));
}

TEST(PromptPolicyMatch, LevelsAndLists) {
  auto p = policy("loli\n", "# comment\n  nude   # adult content\n\n");
  EXPECT_EQ(p.terms(PolicyLevel::base), 1u);
  EXPECT_EQ(p.terms(PolicyLevel::strict), 2u);
  EXPECT_FALSE(p.check("nude", PolicyLevel::base));
  auto hit = p.check("a nude", PolicyLevel::strict);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->term, "nude");
  EXPECT_EQ(hit->list, "group.txt");
  EXPECT_EQ(hit->level, PolicyLevel::strict);
  hit = p.check("l0li", PolicyLevel::strict);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->level, PolicyLevel::base);
}

TEST(PromptPolicyParse, BadListsAreClearErrors) {
  std::array<PolicyList, 1> none{};
  std::array<PolicyList, 1> bad{PolicyList{"x.txt", "ok\n...\n"}};
  auto parsed = PromptPolicy::parse(bad, none);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().public_message, "x.txt:2: a term needs letters");
  std::array<PolicyList, 1> long_term{PolicyList{"y.txt", "a b c d e\n"}};
  parsed = PromptPolicy::parse(long_term, none);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().public_message, "y.txt:1: a term has at most 4 words");
}

TEST(BuiltinPolicy, ListsParseAndKeepToTheirLevels) {
  auto p = PromptPolicy::builtin();
  EXPECT_GE(p->terms(PolicyLevel::base), 6u);
  EXPECT_GT(p->terms(PolicyLevel::strict), p->terms(PolicyLevel::base));
  EXPECT_EQ(PromptPolicy::builtin_lists(PolicyLevel::base).size(), 2u);   // en, ru
  EXPECT_EQ(PromptPolicy::builtin_lists(PolicyLevel::strict).size(), 2u);  // group en, ru
  EXPECT_TRUE(p->check("l.o.l.i", PolicyLevel::base));
  EXPECT_TRUE(p->check("детское пopнo", PolicyLevel::base));
  EXPECT_FALSE(p->check("a n u d e woman", PolicyLevel::base));  // adult terms: safe mode only
  EXPECT_TRUE(p->check("a n u d e woman", PolicyLevel::strict));
  EXPECT_TRUE(p->check("голая девушка", PolicyLevel::strict));
  EXPECT_TRUE(p->check("P0RN0 star", PolicyLevel::strict));
  for (const char* innocent : {"a lollipop on a table", "Sussex countryside", "a dove, голубь на крыше",
                               "nudge the cat", "a naked mole-rat"}) {
    EXPECT_FALSE(p->check(innocent, PolicyLevel::base)) << innocent;
  }
  for (const char* innocent : {"a lollipop on a table", "Sussex countryside", "голубь на крыше", "nudge the cat",
                               "кот в сапогах", "a sexton in a church", "Essex", "Scunthorpe at dawn"}) {
    EXPECT_FALSE(p->check(innocent, PolicyLevel::strict)) << innocent;
  }
}

TEST(BlockedPromptError, IsAFieldErrorOnPrompt) {
  auto e = prompt_blocked_error({.term = "nude", .list = "g.txt", .level = PolicyLevel::strict});
  EXPECT_TRUE(is_prompt_blocked(e));
  ASSERT_EQ(e.field_errors.size(), 1u);
  EXPECT_EQ(e.field_errors[0].field, "prompt");
  EXPECT_EQ(e.internal_detail.find("nude") != std::string::npos, true);  // the log names the term
  EXPECT_EQ(e.public_message.find("nude"), std::string::npos);           // the user is not told it
  EXPECT_TRUE(is_blocked_by_safe_mode(e));
  EXPECT_FALSE(is_blocked_by_safe_mode(prompt_blocked_error({.term = "loli", .list = "b.txt"})));
  EXPECT_EQ(prompt_blocked_error({.term = "loli", .list = "b.txt"}).field_errors.at(0).type, kPromptBlockedType);
  EXPECT_FALSE(is_prompt_blocked(make_error(ErrorCode::invalid_argument, "x")));
}

}  // namespace
}  // namespace igb::core
