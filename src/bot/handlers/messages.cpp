// Messages and commands: who is writing, whether the bot is addressed, and the commands.
#include <spdlog/spdlog.h>

#include "bot/context.hpp"
#include "util/strings.hpp"

namespace igb::bot {
std::string format_time(core::Timestamp t) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

namespace {

std::string period_key(const core::Plan& p) {
  return p.period == core::PeriodKind::daily ? "period.daily" : "period.days30";
}

}  // namespace

net::awaitable<std::optional<Bot::Ctx>> Bot::Ctx::load(Bot& bot, telegram::User from, telegram::Chat chat,
                                                       bool even_banned) {
  auto upsert = [&] {
    auto user = bot.d_.accounts.ensure_user(from.id, from.username, from.language_code);
    // Writing to the bot again means they unblocked it.
    if (user.blocked_bot && chat.is_private()) {
      auto unblocked = bot.d_.accounts.set_blocked_bot(from.id, false);
      if (unblocked.ok()) user.blocked_bot = false;
    }
    return user;
  };
  auto user = co_await bot.d_.pool.run(upsert);
  Ctx c{.user = user, .chat_id = chat.id, .group = chat.is_group(),
        .lang = bot.d_.texts.resolve(user.language.empty() ? from.language_code : user.language),
        .first_name = from.first_name};
  if (user.banned && !even_banned) co_return std::nullopt;
  co_return c;
}

net::awaitable<void> Bot::on_message(Ctx& c, const telegram::Message& m) {
  std::string text = m.text;
  bool addressed = !c.group;
  if (c.group) {
    // In groups only /img …, a mention, a command for this bot, or a reply to the bot.
    const auto mention = "@" + o_.bot_username;
    if (!o_.bot_username.empty() && text.find(mention) != std::string::npos) {
      addressed = true;
      if (!text.starts_with("/")) {
        text.erase(text.find(mention), mention.size());
      }
    }
    if (m.reply_to_message && m.reply_to_message->from && m.reply_to_message->from->username == o_.bot_username) {
      addressed = true;
    }
    if (text.starts_with("/")) addressed = true;  // whose command it is is checked below
  }
  if (m.successful_payment) {
    co_await on_successful_payment(c, *m.successful_payment);
    co_return;
  }
  if (m.refunded_payment) {
    co_await on_refunded_payment(c, *m.refunded_payment);
    co_return;
  }
  if (c.user.banned) co_return;  // loaded only for the payments above
  if (!addressed) co_return;

  if (text.empty()) {
    // No text: a photo, sticker, voice… Image-to-image is not offered yet.
    bool photo = !m.photo.empty() || (m.document && m.document->mime_type.starts_with("image/"));
    auto text = t(c, photo ? "input.photo" : "input.other");
    auto sent = co_await send_text(c, std::move(text), m.message_id);
    (void)sent;
    co_return;
  }
  if (text.starts_with("/")) {
    auto end = text.find_first_of(" \n\t");
    auto word = text.substr(1, end == std::string::npos ? std::string::npos : end - 1);
    std::string args = end == std::string::npos ? "" : std::string(util::trim(std::string_view(text).substr(end)));
    auto at = word.find('@');
    if (at != std::string::npos) {
      if (word.substr(at + 1) != o_.bot_username) co_return;  // another bot's command
      word.resize(at);
    }
    co_await on_command(c, m, util::to_lower(word), std::move(args));
    co_return;
  }
  co_await on_prompt(c, m, std::move(text));
}

net::awaitable<void> Bot::on_command(Ctx& c, const telegram::Message& m, std::string command, std::string args) {
  if (command == "start") {
    co_await cmd_start(c);
  } else if (command == "help") {
    auto text = t(c, "help.text", {{"styles", style_names()}});
    auto sent = co_await send_text(c, std::move(text));
    (void)sent;
  } else if (command == "me") {
    co_await cmd_me(c);
  } else if (command == "settings") {
    co_await show_settings(c, std::nullopt);
  } else if (command == "lang") {
    auto text = t(c, "lang.choose");
    auto kb = language_keyboard();
    auto sent = co_await send_menu(c, std::move(text), std::move(kb));
    (void)sent;
  } else if (command == "cancel") {
    co_await cmd_cancel(c);
  } else if (command == "history") {
    co_await cmd_history(c);
  } else if (command == "apikey") {
    co_await cmd_apikey(c);
  } else if (command == "plans" || command == "subscribe") {
    co_await cmd_plans(c);
  } else if (command == "paysupport" || command == "terms") {
    auto text = t(c, "payments." + command);
    auto sent = co_await send_text(c, std::move(text));
    (void)sent;
  } else if (command == "img") {
    co_await on_prompt(c, m, std::move(args));
  } else if (is_admin(c) && is_admin_command(command)) {
    co_await on_admin_command(c, command, std::move(args));
  } else {
    auto text = t(c, "input.unknown_command");
    std::optional<std::int64_t> reply_to;
    if (c.group) reply_to = m.message_id;
    auto sent = co_await send_text(c, std::move(text), reply_to);
    (void)sent;
  }
}

net::awaitable<void> Bot::cmd_start(Ctx& c) {
  auto read = [&] { return d_.quota.status(c.user.id); };
  auto q = co_await d_.pool.run(read);
  auto text = t(c, "start.text", {{"name", c.first_name},
                                  {"plan", q.plan.title},
                                  {"limit", std::to_string(q.limit)},
                                  {"period", t(c, period_key(q.plan))}});
  auto sent = co_await send_text(c, std::move(text));
  (void)sent;
}

net::awaitable<void> Bot::cmd_me(Ctx& c) {
  auto read = [&] { return d_.quota.status(c.user.id); };
  auto q = co_await d_.pool.run(read);
  std::string renewal;
  if (q.subscription && q.subscription->auto_renew) {
    renewal = t(c, "me.renews", {{"when", format_time(q.subscription->period_end)}});
  } else if (q.subscription) {
    renewal = t(c, "me.ends", {{"when", format_time(q.subscription->period_end)}});
  } else {
    renewal = t(c, "me.resets", {{"when", format_time(q.resets_at)}});
  }
  auto text = t(c, "me.text", {{"plan", q.plan.title},
                               {"remaining", std::to_string(q.remaining())},
                               {"limit", std::to_string(q.limit)},
                               {"renewal", renewal}});
  auto kb = renewal_button(c, q);
  if (kb) {
    auto sent = co_await send_menu(c, std::move(text), std::move(*kb));
    (void)sent;
  } else {
    auto sent = co_await send_text(c, std::move(text));
    (void)sent;
  }
}

net::awaitable<void> Bot::cmd_cancel(Ctx& c) {
  auto cancel_queued = [&] {
    std::vector<core::Job> mine;
    {
      auto tx = d_.store.begin(core::TxMode::read);
      mine = tx->jobs_of(c.user.id, 50);
    }
    int n = 0;
    for (const auto& j : mine) {
      if (j.status == core::JobStatus::queued && j.source == "bot" && d_.jobs.cancel(j.id, c.user.id).ok()) ++n;
    }
    return n;
  };
  int n = co_await d_.pool.run(cancel_queued);
  if (n > 0) wake_delivery();
  auto text = n > 0 ? t(c, "cancel.done", {{"count", std::to_string(n)}}) : t(c, "cancel.none");
  auto sent = co_await send_text(c, std::move(text));
  (void)sent;
}

net::awaitable<void> Bot::cmd_history(Ctx& c) {
  struct Item {
    core::Job job;
    core::Image image;
  };
  auto read = [&] {
    std::vector<Item> out;
    auto tx = d_.store.begin(core::TxMode::read);
    for (auto& j : tx->jobs_of(c.user.id, 50)) {
      if (j.status != core::JobStatus::succeeded || !j.image_id) continue;
      auto image = tx->find_image(*j.image_id);
      if (image) out.push_back({std::move(j), std::move(*image)});
      if (static_cast<int>(out.size()) >= o_.history_size) break;
    }
    return out;
  };
  auto items = co_await d_.pool.run(read);
  if (items.empty()) {
    auto text = t(c, "history.empty");
    auto sent = co_await send_text(c, std::move(text));
    (void)sent;
    co_return;
  }
  auto title = t(c, "history.title");
  auto sent = co_await send_text(c, std::move(title));
  if (!sent) co_return;
  for (const auto& item : items) {
    JobMeta meta{.chat_id = c.chat_id, .lang = c.lang, .group = c.group};
    if (!co_await deliver_photo(item.job, meta)) break;
  }
}

net::awaitable<void> Bot::cmd_apikey(Ctx& c) {
  if (c.group) {
    // Keys are secrets: only in the private chat.
    auto text = t(c, "apikey.private_only");
    auto sent = co_await send_text(c, std::move(text));
    (void)sent;
    co_return;
  }
  auto count_keys = [&] {
    int n = 0;
    for (const auto& k : d_.accounts.api_keys(c.user.id)) n += !k.revoked_at;
    return n;
  };
  int n = co_await d_.pool.run(count_keys);
  auto kb = single_button(t(c, "apikey.create"), "key:new");
  if (n > 0) kb.inline_keyboard.push_back(single_button(t(c, "apikey.revoke"), "key:del").inline_keyboard.front());
  auto text = t(c, "apikey.text", {{"count", std::to_string(n)}});
  auto sent = co_await send_menu(c, std::move(text), std::move(kb));
  (void)sent;
}

}  // namespace igb::bot
