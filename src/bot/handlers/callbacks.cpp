// Buttons. callback_data comes back from the user's client, so it is untrusted: every action re-reads
// the job as its owner (another user's job id is "stale"), and every query is answered exactly once.
#include <spdlog/spdlog.h>

#include "bot/context.hpp"
#include "core/styles.hpp"

namespace igb::bot {
namespace {

constexpr std::array<std::string_view, 8> kRatios{"1:1", "4:3", "3:4", "3:2", "2:3", "16:9", "9:16", "21:9"};

}  // namespace

std::string Bot::settings_text(const Ctx& c) const {
  return t(c, "settings.text", {{"ar", c.user.aspect_ratio.empty() ? t(c, "settings.square") : c.user.aspect_ratio},
                                {"style", c.user.style.empty() ? t(c, "settings.none") : c.user.style},
                                {"lang", t(c, "language_name")}});
}

telegram::InlineKeyboardMarkup Bot::settings_keyboard(const Ctx& c) const {
  telegram::InlineKeyboardMarkup kb;
  kb.inline_keyboard.push_back({{.text = t(c, "settings.aspect_ratio"), .callback_data = "set:ar"},
                                {.text = t(c, "settings.style"), .callback_data = "set:st"}});
  kb.inline_keyboard.push_back({{.text = t(c, "settings.language"), .callback_data = "set:lg"}});
  return kb;
}

std::optional<std::pair<std::string, telegram::InlineKeyboardMarkup>> Bot::settings_menu(const Ctx& c,
                                                                                       std::string_view which) const {
  telegram::InlineKeyboardMarkup kb;
  std::string text;
  if (which == "ar") {
    text = t(c, "settings.choose_ar");
    std::vector<telegram::InlineKeyboardButton> row;
    for (auto r : kRatios) {
      row.push_back({.text = std::string(r), .callback_data = "ar:" + std::string(r)});
      if (row.size() == 4) kb.inline_keyboard.push_back(std::exchange(row, {}));
    }
    if (!row.empty()) kb.inline_keyboard.push_back(std::move(row));
  } else if (which == "st") {
    text = t(c, "settings.choose_style");
    std::vector<telegram::InlineKeyboardButton> row{{.text = t(c, "settings.none"), .callback_data = "st:-"}};
    for (const auto& s : core::kStyles) {
      row.push_back({.text = std::string(s.name), .callback_data = "st:" + std::string(s.name)});
      if (row.size() == 4) kb.inline_keyboard.push_back(std::exchange(row, {}));
    }
    if (!row.empty()) kb.inline_keyboard.push_back(std::move(row));
  } else if (which == "lg") {
    text = t(c, "lang.choose");
    kb = language_keyboard();
  } else {
    return std::nullopt;
  }
  kb.inline_keyboard.push_back({{.text = t(c, "settings.back"), .callback_data = "set"}});
  return std::pair{std::move(text), std::move(kb)};
}

telegram::InlineKeyboardMarkup Bot::language_keyboard() const {
  telegram::InlineKeyboardMarkup kb;
  for (const auto& lang : d_.texts.languages()) {
    kb.inline_keyboard.push_back({{.text = d_.texts.text(lang, "language_name"), .callback_data = "lg:" + lang}});
  }
  return kb;
}

telegram::InlineKeyboardMarkup Bot::single_button(std::string text, std::string data) {
  telegram::InlineKeyboardMarkup kb;
  kb.inline_keyboard.push_back({{.text = std::move(text), .callback_data = std::move(data)}});
  return kb;
}

net::awaitable<void> Bot::show_settings(Ctx& c, std::optional<std::int64_t> edit_message) {
  if (edit_message) {
    telegram::EditMessageText e{.message_id = *edit_message, .text = settings_text(c), .reply_markup = settings_keyboard(c)};
    if (co_await edit(c.chat_id, std::move(e))) co_return;
  }
  auto text = settings_text(c);
  auto kb = settings_keyboard(c);
  auto sent = co_await send_menu(c, std::move(text), std::move(kb));
  (void)sent;
}

net::awaitable<void> Bot::on_callback(Ctx& c, const telegram::CallbackQuery& q) {
  auto cb = decode_callback(q.data);
  std::string reply;
  bool alert = false;
  // A text message the bot sent (settings menus) can be edited in place; a photo cannot.
  std::optional<std::int64_t> editable;
  if (q.message && q.message->date != 0 && q.message->photo.empty() && q.message->document == std::nullopt) {
    editable = q.message->message_id;
  }
  std::optional<std::int64_t> origin;
  if (q.message) origin = q.message->message_id;
  if (!cb) {
    auto text = t(c, "button.stale");
    co_await answer(q.id, std::move(text));
    co_return;
  }
  const auto& action = cb->action;
  const auto& arg = cb->argument;

  if (action == "a" || action == "v" || action == "o" || action == "c") {
    auto read = [&] { return d_.jobs.get(arg, c.user.id); };
    auto job = co_await d_.pool.run(read);
    if (!job.ok()) {
      {
      auto text = t(c, "button.stale");
      co_await answer(q.id, std::move(text));
    }
      co_return;
    }
    if (action == "c") {
      auto cancel = [&] { return d_.jobs.cancel(arg, c.user.id); };
      auto done = co_await d_.pool.run(cancel);
      if (done.ok()) wake_delivery();
      reply = done.ok() ? t(c, *done ? "status.canceled_counted" : "status.canceled") : t(c, "button.stale");
    } else if (action == "o") {
      co_await answer_silently(q.id);
      co_await deliver_original(c, *job);
      co_return;
    } else {
      co_await answer_silently(q.id);
      auto params = job->params;
      params.seed.reset();  // a new seed: the worker picks one
      int count = 1;
      if (action == "v") {
        auto plan_of = [&] { return d_.quota.status(c.user.id).plan; };
        auto plan = co_await d_.pool.run(plan_of);
        count = std::min(plan.images_per_request, 3);
      }
      co_await submit(c, std::move(params), count, origin);
      co_return;
    }
  } else if (action == "set") {
    co_await answer_silently(q.id);
    if (arg.empty()) {
      co_await show_settings(c, editable);
      co_return;
    }
    auto menu = settings_menu(c, arg);
    if (!menu) co_return;
    auto text = std::move(menu->first);
    auto kb = std::move(menu->second);
    if (editable) {
      telegram::EditMessageText e{.message_id = *editable, .text = std::move(text), .reply_markup = std::move(kb)};
      if (co_await edit(c.chat_id, std::move(e))) co_return;
    } else {
      auto sent = co_await send_menu(c, std::move(text), std::move(kb));
      (void)sent;
    }
    co_return;
  } else if (action == "ar" || action == "st") {
    bool valid = action == "ar" ? std::find(kRatios.begin(), kRatios.end(), arg) != kRatios.end()
                                : arg == "-" || core::find_style(arg) != nullptr;
    if (!valid) {
      {
      auto text = t(c, "button.stale");
      co_await answer(q.id, std::move(text));
    }
      co_return;
    }
    if (action == "ar") c.user.aspect_ratio = arg == "1:1" ? std::string() : arg;
    if (action == "st") c.user.style = arg == "-" ? std::string() : arg;
    auto save = [&] {
      auto tx = d_.store.begin(core::TxMode::write);
      tx->set_user_preferences(c.user.id, c.user.aspect_ratio, c.user.style);
      tx->commit();
    };
    co_await d_.pool.run(save);
    {
      auto text = t(c, "settings.saved");
      co_await answer(q.id, std::move(text));
    }
    co_await show_settings(c, editable);
    co_return;
  } else if (action == "lg") {
    if (d_.texts.resolve(arg) != arg) {
      {
      auto text = t(c, "button.stale");
      co_await answer(q.id, std::move(text));
    }
      co_return;
    }
    auto save = [&] { return d_.accounts.set_language(c.user.id, arg); };
    auto saved = co_await d_.pool.run(save);
    (void)saved;
    c.lang = arg;
    c.user.language = arg;
    {
      auto text = t(c, "lang.set");
      co_await answer(q.id, std::move(text));
    }
    co_await show_settings(c, editable);
    co_return;
  } else if (action == "key" && !c.group) {
    if (arg == "new") {
      auto create = [&] { return d_.accounts.create_api_key(c.user.id, "telegram"); };
      auto key = co_await d_.pool.run(create);
      co_await answer_silently(q.id);
      if (key.ok()) {
        auto text = t(c, "apikey.created", {{"key", key->secret}});
        auto sent = co_await send_text(c, std::move(text));
        (void)sent;
      }
      co_return;
    }
    if (arg == "del") {
      auto revoke = [&] {
        int n = 0;
        for (const auto& k : d_.accounts.api_keys(c.user.id)) {
          if (!k.revoked_at && d_.accounts.revoke_api_key(c.user.id, k.id).ok()) ++n;
        }
        return n;
      };
      int n = co_await d_.pool.run(revoke);
      reply = t(c, "apikey.revoked", {{"count", std::to_string(n)}});
      alert = true;
    }
  } else if (action == "buy") {
    co_await on_buy(c, q, arg);
    co_return;
  } else if (action == "ren" && (arg == "on" || arg == "off")) {
    co_await on_renewal_button(c, q, arg == "on");
    co_return;
  } else {
    reply = t(c, "button.stale");
  }
  co_await answer(q.id, std::move(reply), alert);
}

}  // namespace igb::bot
