// The bot's small pieces: texts, prompt options, callback data, job meta, invoice payloads.
#include <gtest/gtest.h>

#include "bot/callback_data.hpp"
#include "bot/job_meta.hpp"
#include "bot/payload.hpp"
#include "bot/i18n.hpp"
#include "bot/inline_mode.hpp"
#include "bot/inline_search.hpp"
#include "bot/prompt_options.hpp"
#include "core/model.hpp"
#include "util/crypto.hpp"

namespace igb::bot {
namespace {

// A payload names the user, the plan and the price the invoice was made for; the MAC covers all three.
TEST(InvoicePayload, SignsUserPlanAndPriceAndChecksWithAnyAcceptedSecret) {
  const std::string key = "secret-one-0123456789";
  auto payload = sign_payload({.user_id = 1001, .plan_id = "basic", .price_stars = 150}, key);
  auto p = verify_payload(payload, key);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->user_id, 1001);
  EXPECT_EQ(p->plan_id, "basic");
  EXPECT_EQ(p->price_stars, 150);
  EXPECT_NE(sign_payload({.user_id = 1001, .plan_id = "basic", .price_stars = 150}, key), payload);  // a nonce
  EXPECT_FALSE(verify_payload(payload, "secret-two-0123456789"));
  EXPECT_FALSE(verify_payload(payload, ""));
  // A rotation: the older secret still checks what it signed.
  EXPECT_TRUE(verify_payload(payload, std::vector<std::string>{"secret-two-0123456789", key}));
  EXPECT_FALSE(verify_payload(payload, std::vector<std::string>{"secret-two-0123456789", ""}));
  // The price cannot be changed: "p2.1001.basic.150.<nonce>.<mac>" with another price.
  auto cheaper = payload;
  cheaper.replace(cheaper.find(".150."), 5, ".15.0");
  EXPECT_FALSE(verify_payload(cheaper, key));
  // The longest plan id and price still fit Telegram's 128 bytes.
  auto longest = sign_payload({.user_id = INT64_MAX, .plan_id = std::string(32, 'x'), .price_stars = INT64_MAX}, key);
  EXPECT_LE(longest.size(), 128u);
  EXPECT_TRUE(verify_payload(longest, key));
}

// Invoices made before the price was part of the payload ("p1", as the older code signed them: the
// same MAC over "p1.<user>.<plan>.<nonce>") still verify, without a price.
TEST(InvoicePayload, OlderPayloadsWithoutAPriceStillVerify) {
  const std::string key = "secret-one-0123456789";
  const std::string body = "p1.7.pro.abcdef012345";
  const auto payload = body + "." + util::base64url(util::hmac_sha256(key, body).substr(0, 16));
  auto p = verify_payload(payload, key);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->user_id, 7);
  EXPECT_EQ(p->plan_id, "pro");
  EXPECT_FALSE(p->price_stars);
  EXPECT_FALSE(verify_payload(payload, "secret-two-0123456789"));
  // A "p2" body must carry a positive price.
  const std::string no_price = "p2.7.pro.0.abcdef012345";
  EXPECT_FALSE(verify_payload(no_price + "." + util::base64url(util::hmac_sha256(key, no_price).substr(0, 16)), key));
}

TEST(Catalogs, EveryLanguageHasEveryEnglishKey) {
  auto c = Catalogs::embedded();
  ASSERT_GE(c.languages().size(), 2u);
  for (const auto& lang : c.languages()) {
    EXPECT_TRUE(c.missing_keys(lang).empty()) << lang << " lacks " << c.missing_keys(lang).front();
  }
}

// Every failure code a job can store is worded in every language, with no value left to fill and
// the same promise everywhere: a failed job's quota was given back.
TEST(Catalogs, EveryFailureCodeIsWordedInEveryLanguage) {
  auto c = Catalogs::embedded();
  for (auto code : core::kFailureCodes) {
    const auto key = std::string("failed.") + core::to_string(code);
    for (const auto& lang : c.languages()) {
      const auto text = c.text(lang, key);
      EXPECT_NE(text, key) << lang;
      EXPECT_EQ(text.find('{'), std::string::npos) << lang << " " << key << ": " << text;
    }
    EXPECT_NE(c.text("en", key).find("quota was not used"), std::string::npos) << key;
    EXPECT_NE(c.text("ru", key).find("Лимит не израсходован"), std::string::npos) << key;
  }
  EXPECT_NE(c.text("ru", "failed.content_refused").find("Переформулируйте"), std::string::npos);
}

TEST(Catalogs, ResolvesClientLanguagesAndFallsBackToEnglish) {
  auto c = Catalogs::embedded();
  EXPECT_EQ(c.resolve("ru-RU"), "ru");
  EXPECT_EQ(c.resolve("RU"), "ru");
  EXPECT_EQ(c.resolve("de"), "en");
  EXPECT_EQ(c.resolve(""), "en");
  EXPECT_EQ(c.text("ru", "lang.set"), "Язык: русский.");
  EXPECT_EQ(c.text("de", "lang.set"), "Language set to English.");
  EXPECT_EQ(c.text("en", "cancel.done", {{"count", "2"}}), "Canceled 2 queued image(s). They were not counted.");
}

TEST(Catalogs, MissingKeysAndBadFilesAreReported) {
  auto c = Catalogs::from({{"en.toml", "a = \"A {x}\"\n[b]\nc = \"C\"\n"}, {"xx.toml", "a = \"AX\"\n"}});
  EXPECT_EQ(c.missing_keys("xx"), std::vector<std::string>{"b.c"});
  EXPECT_EQ(c.text("xx", "b.c"), "C");
  EXPECT_EQ(c.text("xx", "a", {{"x", "1"}}), "AX");
  EXPECT_EQ(c.text("en", "a", {{"x", "1"}}), "A 1");
  EXPECT_EQ(c.text("en", "nope"), "nope");
  EXPECT_THROW(Catalogs::from({{"en.toml", "a = "}}), std::runtime_error);
  EXPECT_THROW(Catalogs::from({{"ru.toml", "a = \"x\""}}), std::runtime_error);  // no English
}

TEST(Format, ReplacesKnownNamesOnly) { EXPECT_EQ(format("{a} and {b} {", {{"a", "1"}}), "1 and {b} {"); }

PromptRequest ok(std::string_view text) {
  auto r = parse_prompt(text, {});
  EXPECT_TRUE(std::holds_alternative<PromptRequest>(r)) << text << ": " << std::get<PromptProblem>(r).key;
  return std::holds_alternative<PromptRequest>(r) ? std::get<PromptRequest>(r) : PromptRequest{};
}

PromptProblem bad(std::string_view text, PromptLimits limits = {}) {
  auto r = parse_prompt(text, limits);
  EXPECT_TRUE(std::holds_alternative<PromptProblem>(r)) << text;
  return std::holds_alternative<PromptProblem>(r) ? std::get<PromptProblem>(r) : PromptProblem{};
}

TEST(PromptOptions, OptionsAfterThePrompt) {
  auto r = ok("  a fox in snow --ar 16:9 --seed 42 --steps 3 --style anime ");
  EXPECT_EQ(r.prompt, "a fox in snow");
  EXPECT_EQ(r.aspect_ratio, "16:9");
  EXPECT_EQ(r.seed, 42);
  EXPECT_EQ(r.steps, 3);
  EXPECT_EQ(r.style, "anime");
  auto plain = ok("лиса в снегу");
  EXPECT_EQ(plain.prompt, "лиса в снегу");
  EXPECT_FALSE(plain.seed);
  // Phones turn "--" into an em dash.
  EXPECT_EQ(ok("a cat \xE2\x80\x94seed 7").seed, 7);
  // "--" inside a word is part of the prompt.
  EXPECT_EQ(ok("a well--known place").prompt, "a well--known place");
}

TEST(PromptOptions, WrongOptionsAreExplained) {
  EXPECT_EQ(bad("").key, "prompt.empty");
  EXPECT_EQ(bad("--seed 4").key, "prompt.empty");
  EXPECT_EQ(bad("a cat --size 5").key, "prompt.unknown_option");
  EXPECT_EQ(bad("a cat --seed").key, "prompt.missing_value");
  EXPECT_EQ(bad("a cat --seed --ar 1:1").key, "prompt.missing_value");
  auto seed = bad("a cat --seed x1");
  EXPECT_EQ(seed.key, "prompt.bad_seed");
  ASSERT_FALSE(seed.args.empty());
  EXPECT_EQ(seed.args[0].second, "x1");
  EXPECT_EQ(bad("a cat --seed -1").key, "prompt.bad_seed");
  EXPECT_EQ(bad("a cat --seed 4294967296").key, "prompt.bad_seed");
  EXPECT_EQ(bad("a cat --ar 10:1").key, "prompt.bad_ar");
  EXPECT_EQ(bad("a cat --steps 9").key, "prompt.bad_steps");
  EXPECT_EQ(bad("a cat --style vaporwave").key, "prompt.bad_style");
  EXPECT_EQ(bad("a cat 12", {.max_prompt_chars = 5}).key, "prompt.too_long");
  EXPECT_EQ(ok("ёжик").prompt, "ёжик");  // 4 characters, 8 bytes
  EXPECT_EQ(std::get<PromptRequest>(parse_prompt("ёжик", {.max_prompt_chars = 4})).prompt, "ёжик");
}

// Each kind keeps the wire string it had before the router (the golden transcripts show them).
TEST(CallbackData, EveryKindRoundTripsWithTheSameWireStrings) {
  const std::string job = "j0123456789abcdef01234567";
  EXPECT_EQ(encode(AgainData{.job_id = job}), "a:" + job);
  EXPECT_EQ(encode(VariationsData{.job_id = job}), "v:" + job);
  EXPECT_EQ(encode(OriginalData{.job_id = job}), "o:" + job);
  EXPECT_EQ(encode(CancelJobData{.job_id = job}), "c:" + job);
  EXPECT_EQ(encode(SettingsData{}), "set");
  EXPECT_EQ(encode(SettingsData{.menu = "ar"}), "set:ar");
  EXPECT_EQ(encode(AspectRatioData{.ratio = "16:9"}), "ar:16:9");
  EXPECT_EQ(encode(StyleData{.style = "-"}), "st:-");
  EXPECT_EQ(encode(LanguageData{.lang = "ru"}), "lg:ru");
  EXPECT_EQ(encode(ApiKeyData{.action = "new"}), "key:new");
  EXPECT_EQ(encode(BuyData{.plan_id = "pro"}), "buy:pro");
  EXPECT_EQ(encode(RenewalData{.on = true}), "ren:on");
  EXPECT_EQ(encode(RenewalData{.on = false}), "ren:off");

  EXPECT_EQ(decode<AgainData>("a:" + job)->job_id, job);
  EXPECT_EQ(decode<VariationsData>("v:" + job)->job_id, job);
  EXPECT_EQ(decode<OriginalData>("o:" + job)->job_id, job);
  EXPECT_EQ(decode<CancelJobData>("c:" + job)->job_id, job);
  EXPECT_EQ(decode<SettingsData>("set")->menu, "");
  EXPECT_EQ(decode<SettingsData>("set:st")->menu, "st");
  EXPECT_EQ(decode<AspectRatioData>("ar:21:9")->ratio, "21:9");  // the argument is all after the first ':'
  EXPECT_EQ(decode<StyleData>("st:anime")->style, "anime");
  EXPECT_EQ(decode<LanguageData>("lg:en")->lang, "en");
  EXPECT_EQ(decode<ApiKeyData>("key:del")->action, "del");
  EXPECT_EQ(decode<BuyData>("buy:pro")->plan_id, "pro");
  EXPECT_TRUE(decode<RenewalData>("ren:on")->on);
  EXPECT_FALSE(decode<RenewalData>("ren:off")->on);
}

TEST(CallbackData, TooLongIsRejectedAtEncodingAndDecoding) {
  // "a:" + 62 bytes is exactly 64: the limit itself is allowed.
  ASSERT_TRUE(encode(AgainData{.job_id = std::string(62, 'x')}));
  EXPECT_EQ(encode(AgainData{.job_id = std::string(62, 'x')})->size(), kMaxCallbackData);
  EXPECT_FALSE(encode(AgainData{.job_id = std::string(63, 'x')}));
  EXPECT_FALSE(encode(BuyData{.plan_id = std::string(61, 'p')}));
  EXPECT_THROW((void)callback_data(BuyData{.plan_id = std::string(61, 'p')}), std::logic_error);
  EXPECT_EQ(callback_data(BuyData{.plan_id = "pro"}), "buy:pro");
  EXPECT_FALSE(decode<AgainData>("a:" + std::string(63, 'x')));
  EXPECT_EQ(callback_prefix("a:" + std::string(63, 'x')), "");
}

TEST(CallbackData, OtherKindsAndJunkDoNotDecode) {
  EXPECT_FALSE(decode<AgainData>("v:j1"));
  EXPECT_FALSE(decode<AgainData>("a"));   // a job id is required
  EXPECT_FALSE(decode<AgainData>("a:"));
  EXPECT_FALSE(decode<AgainData>("ab:j1"));
  EXPECT_FALSE(decode<SettingsData>("settings"));
  EXPECT_FALSE(decode<RenewalData>("ren:maybe"));
  EXPECT_FALSE(decode<RenewalData>("ren"));
  EXPECT_FALSE(decode<BuyData>(""));
  EXPECT_EQ(callback_prefix("set:ar"), "set");
  EXPECT_EQ(callback_prefix("set"), "set");
  EXPECT_EQ(callback_prefix(""), "");
}

TEST(JobMeta, RoundTripsAndRejectsJunk) {
  JobMeta m{.chat_id = -100123456789012, .status_message_id = 7, .reply_to = 6, .lang = "ru", .group = true};
  auto back = decode_meta(encode_meta(m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->chat_id, m.chat_id);
  EXPECT_EQ(back->status_message_id, 7);
  EXPECT_EQ(back->reply_to, 6);
  EXPECT_EQ(back->lang, "ru");
  EXPECT_TRUE(back->group);
  EXPECT_FALSE(decode_meta(""));
  EXPECT_FALSE(decode_meta("status=1"));
  EXPECT_FALSE(decode_meta("chat=x"));
}

// The prompt assistant: the user's words, when the provider got a translation or an enrichment, in
// base64 (a prompt may hold the meta's own separators); metas without it keep their old wire form.
TEST(JobMeta, CarriesTheUsersOwnPrompt) {
  JobMeta m{.chat_id = 42, .lang = "ru", .original = "лиса; chat=7;inline=x = «снег»"};
  auto text = encode_meta(m);
  EXPECT_EQ(text.find("лиса"), std::string::npos);
  auto back = decode_meta(with_inline_target(text, "BAAAAJxI-_kL=="));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->chat_id, 42);
  EXPECT_EQ(back->original, m.original);
  EXPECT_EQ(inline_target(with_inline_target(text, "BAAAAJxI-_kL==")), "BAAAAJxI-_kL==");
  EXPECT_EQ(shown_prompt(*back, "a fox"), m.original);
  EXPECT_EQ(encode_meta(JobMeta{.chat_id = 42}), "chat=42;status=0;reply=0;lang=en;group=0");
  EXPECT_EQ(shown_prompt(JobMeta{}, "a fox"), "a fox");
  // A damaged value loses only itself: the job is still delivered, with the prompt sent.
  auto damaged = decode_meta("chat=42;orig=!!!;group=1");
  ASSERT_TRUE(damaged);
  EXPECT_EQ(damaged->original, "");
  EXPECT_TRUE(damaged->group);
}

TEST(CallbackData, EnhanceFitsAndRoundTrips) {
  const std::string job = "j0190a1b2c3d4e5f6a7b8c9d0e1";
  EXPECT_EQ(callback_data(EnhanceData{job}), "e:" + job);
  EXPECT_LE(callback_data(EnhanceData{job}).size(), kMaxCallbackData);
  EXPECT_EQ(decode<EnhanceData>("e:" + job)->job_id, job);
  EXPECT_FALSE(decode<EnhanceData>("e"));
  EXPECT_FALSE(decode<EnhanceData>("a:" + job));
  EXPECT_FALSE(decode<AgainData>("e:" + job));
}

// Inline mode's target rides in the meta after the chat's fields; decode_meta skips it, and metas
// without it keep their old wire form.
TEST(JobMeta, CarriesTheInlineMessage) {
  auto meta = with_inline_target(encode_meta(JobMeta{.chat_id = 42}), "BAAAAJxI-_kL==");
  EXPECT_EQ(meta, "chat=42;status=0;reply=0;lang=en;group=0;inline=BAAAAJxI-_kL==");
  EXPECT_EQ(inline_target(meta), "BAAAAJxI-_kL==");
  ASSERT_TRUE(decode_meta(meta));
  EXPECT_EQ(decode_meta(meta)->chat_id, 42);
  EXPECT_EQ(inline_target("chat=42;status=0"), "");
  EXPECT_EQ(inline_target("chat=42;inline=a b"), "");  // not a plain id: not used
}

TEST(InlineSearch, EveryQueryWordInsideSomePromptWordAnyCase) {
  EXPECT_TRUE(prompt_matches("fox", "A Fox in snow"));
  EXPECT_TRUE(prompt_matches("SNOW fox", "a fox in snow"));
  EXPECT_TRUE(prompt_matches("fox", "two foxes, sleeping"));  // inside a word
  EXPECT_FALSE(prompt_matches("fox night", "a fox in snow"));   // every word must be found
  EXPECT_TRUE(prompt_matches("", "anything"));
  EXPECT_TRUE(prompt_matches("  ,. ", "anything"));  // no words: everything
  EXPECT_TRUE(prompt_matches("Кот", "рыжий КОТ в сапогах"));  // Cyrillic lower-cased too
  EXPECT_TRUE(prompt_matches("ёлка", "Ёлка в снегу"));
  EXPECT_FALSE(prompt_matches("пёс", "рыжий кот"));
  EXPECT_TRUE(prompt_matches("snow--ar", "snow --ar 16:9"));  // punctuation splits words
  EXPECT_FALSE(prompt_matches("fox", ""));
}

TEST(InlineSearch, WordsAreBoundedAndInvalidBytesSplit) {
  std::string many;
  for (int i = 0; i < 100; ++i) many += "w" + std::to_string(i) + " ";
  EXPECT_EQ(search_words(many).size(), 32u);
  EXPECT_EQ(search_words("ab\xff\xfe"
                         "cd"),
            (std::vector<std::string>{"ab", "cd"}));
  EXPECT_TRUE(search_words("ab\xd0").size() == 1);  // a character cut at the end is dropped
}

TEST(InlineSearch, OnlyPlainInlineMessageIdsAreKept) {
  EXPECT_TRUE(valid_inline_message_id("BAAAAJxIAAB6-_kLmHJ9xw"));
  EXPECT_FALSE(valid_inline_message_id(""));
  EXPECT_FALSE(valid_inline_message_id("a;chat=1"));  // the meta's separators
  EXPECT_FALSE(valid_inline_message_id(std::string(129, 'a')));
  EXPECT_TRUE(valid_inline_message_id(std::string(128, 'a')));
}

}  // namespace
}  // namespace igb::bot
