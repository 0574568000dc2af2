// The bot's router on its own: which registration an update meets (first match wins, filters,
// fallbacks), how a message is read (addressed or not, commands of other bots), and the command
// menus built from the registrations. The handlers are never run here (see dialogue_test.cpp).
#include <gtest/gtest.h>

#include "bot/router.hpp"

namespace igb::bot {

// Handlers are not run by these tests; the router only needs their addresses.
net::awaitable<void> noop(Context&) { co_return; }
net::awaitable<void> other(Context&) { co_return; }
net::awaitable<void> on_again(Context&, AgainData) { co_return; }
net::awaitable<void> on_renewal(Context&, RenewalData) { co_return; }
net::awaitable<void> on_key(Context&, ApiKeyData) { co_return; }

namespace {

std::string matched(const Router& r, const Incoming& in) {
  const auto* route = r.match(in);
  return route ? route->name : "none";
}

Incoming command(std::string name, bool group = false, bool admin = false) {
  return Incoming{.kind = UpdateKind::command, .group = group, .admin = admin, .command = std::move(name)};
}

Incoming button(std::string data, bool group = false) {
  return Incoming{.kind = UpdateKind::callback, .group = group, .callback_data = std::move(data)};
}

TEST(Router, MatchesCommandsAliasesAndFallsBackForUnknownOnes) {
  Router r;
  r.command("start", {}, noop);
  r.command("plans", {}, noop, {"subscribe"});
  EXPECT_EQ(matched(r, command("start")), "/start");
  EXPECT_EQ(matched(r, command("subscribe")), "/subscribe");
  EXPECT_EQ(matched(r, command("nope")), "none");
  r.unknown_command(other);
  EXPECT_EQ(matched(r, command("nope")), "unknown command");
  // A command is not a text message, nor the other way round.
  EXPECT_EQ(matched(r, Incoming{.kind = UpdateKind::text, .command = "start"}), "none");
}

TEST(Router, FiltersChooseBetweenRegistrationsAndTheFirstMatchWins) {
  Router r;
  r.command("apikey", {.filter = {.chat = ChatScope::private_only}}, noop);
  r.command("apikey", {.filter = {.chat = ChatScope::group_only}}, other);
  r.command("stats", {.filter = {.admin = true}}, noop);
  r.unknown_command(other);
  EXPECT_EQ(*r.match(command("apikey", false))->run.target<Router::Handler>(), &noop);
  EXPECT_EQ(*r.match(command("apikey", true))->run.target<Router::Handler>(), &other);
  EXPECT_EQ(matched(r, command("stats", false, true)), "/stats");
  EXPECT_EQ(matched(r, command("stats", false, false)), "unknown command");  // not an admin: as if unknown

  Router first;
  first.command("x", {}, noop);
  first.command("x", {}, other);
  EXPECT_EQ(*first.match(command("x"))->run.target<Router::Handler>(), &noop);
}

TEST(Router, HasTextFilter) {
  Router r;
  r.on(UpdateKind::text, {.has_text = true}, noop, "prompt");
  EXPECT_EQ(matched(r, Incoming{.kind = UpdateKind::text, .text = "a cat"}), "prompt");
  EXPECT_EQ(matched(r, Incoming{.kind = UpdateKind::text}), "none");
}

TEST(Router, ButtonsMatchByKindAndOnlyWhenTheirDataDecodes) {
  Router r;
  r.callback<AgainData>(on_again);
  r.callback<RenewalData>(on_renewal);
  r.callback<ApiKeyData>({.chat = ChatScope::private_only}, on_key);
  EXPECT_EQ(matched(r, button("a:j1")), "cb:a");
  EXPECT_EQ(matched(r, button("ren:on")), "cb:ren");
  EXPECT_EQ(matched(r, button("ren:sometimes")), "none");  // not a RenewalData
  EXPECT_EQ(matched(r, button("key:new")), "cb:key");
  EXPECT_EQ(matched(r, button("key:new", true)), "none");  // private chats only
  EXPECT_EQ(matched(r, button("zz:1")), "none");
  EXPECT_EQ(matched(r, button("")), "none");
  r.unknown_button(other);
  EXPECT_EQ(matched(r, button("key:new", true)), "unknown button");
  EXPECT_EQ(matched(r, button(std::string(65, 'a'))), "unknown button");
}

TEST(Router, OtherUpdateKinds) {
  Router r;
  r.on(UpdateKind::pre_checkout_query, noop, "pre-checkout");
  r.on(UpdateKind::successful_payment, noop, "paid");
  EXPECT_EQ(matched(r, Incoming{.kind = UpdateKind::pre_checkout_query}), "pre-checkout");
  EXPECT_EQ(matched(r, Incoming{.kind = UpdateKind::successful_payment}), "paid");
  EXPECT_EQ(matched(r, Incoming{.kind = UpdateKind::my_chat_member}), "none");
  EXPECT_THROW(r.on(UpdateKind::command, noop), std::logic_error);
  EXPECT_THROW(r.command("Start", {}, noop), std::logic_error);
}

TEST(Router, MenusComeFromTheRegistrationsInRankOrderAdminsLast) {
  Router r;
  r.command("help", {.menu_key = "commands.help", .menu_rank = 20}, noop);
  r.command("start", {.menu_key = "commands.start", .menu_rank = 10}, noop);
  r.command("img", {}, noop);  // no menu entry
  r.command("plans", {.menu_key = "commands.plans", .menu_rank = 30}, noop, {"subscribe"});
  r.command("apikey", {.filter = {.chat = ChatScope::private_only}, .menu_key = "commands.apikey", .menu_rank = 25},
            noop);
  r.command("apikey", {.filter = {.chat = ChatScope::group_only}, .menu_key = "commands.apikey", .menu_rank = 25},
            other);
  r.command("stats", {.filter = {.admin = true}, .menu_key = "commands.stats", .menu_rank = 1}, noop);
  auto names = [](const std::vector<MenuCommand>& menu) {
    std::vector<std::string> out;
    for (const auto& m : menu) out.push_back(m.command + "=" + m.description_key);
    return out;
  };
  EXPECT_EQ(names(r.menu(false)), (std::vector<std::string>{"start=commands.start", "help=commands.help",
                                                            "apikey=commands.apikey", "plans=commands.plans"}));
  EXPECT_EQ(names(r.menu(true)),
            (std::vector<std::string>{"start=commands.start", "help=commands.help", "apikey=commands.apikey",
                                      "plans=commands.plans", "stats=commands.stats"}));
}

TEST(ReadMessage, PrivateChatsTakeEverything) {
  auto v = read_message("a red fox", false, "imgbot", false);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, UpdateKind::text);
  EXPECT_EQ(v->text, "a red fox");
  v = read_message("", false, "imgbot", false);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, UpdateKind::other_message);
  v = read_message("/Start  payload-1 ", false, "imgbot", false);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, UpdateKind::command);
  EXPECT_EQ(v->command, "start");
  EXPECT_EQ(v->text, "payload-1");
}

TEST(ReadMessage, GroupsTakeOnlyWhatIsAddressedToThisBot) {
  EXPECT_FALSE(read_message("a red fox", true, "imgbot", false));
  auto v = read_message("@imgbot a red fox", true, "imgbot", false);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, UpdateKind::text);
  EXPECT_EQ(v->text, " a red fox");  // the mention is cut out; the prompt parser trims
  v = read_message("a red fox", true, "imgbot", true);  // a reply to the bot
  ASSERT_TRUE(v);
  EXPECT_EQ(v->text, "a red fox");
  v = read_message("/img@imgbot a cat", true, "imgbot", false);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->command, "img");
  EXPECT_EQ(v->text, "a cat");
  EXPECT_FALSE(read_message("/img@otherbot a cat", true, "imgbot", false));  // another bot's command
}

}  // namespace
}  // namespace igb::bot
