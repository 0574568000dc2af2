#pragma once
// The bot's dispatch table, aiogram's router in small: handlers registered by command, by callback
// data kind, or by kind of update, each with filters (private or group chat, admins only, has text);
// the first registration that matches wins. The command menus (setMyCommands) are built from the
// same registrations, so a command is declared once.
//
// The router matches an Incoming (what the update is, read by Bot::handle) and runs the handler
// with the update's Context (src/bot/context.hpp); it knows neither Telegram's wire nor the core.
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/callback_data.hpp"

namespace igb::bot {

class Context;
namespace net = boost::asio;

enum class UpdateKind {
  command,             // a message "/word …" addressed to this bot
  text,                // any other text message addressed to this bot (a prompt)
  other_message,       // a message without text (photo, sticker, voice…) addressed to this bot
  callback,            // a button press
  successful_payment,  // service messages of Telegram Stars
  refunded_payment,
  pre_checkout_query,
  my_chat_member,      // the bot was blocked or unblocked, added to or removed from a group
  subscription,        // Bot API 10.2: a Stars subscription changed in Telegram
};

enum class ChatScope { any, private_only, group_only };

struct Filter {
  ChatScope chat = ChatScope::any;
  bool admin = false;      // ADMIN_TELEGRAM_IDS, in their private chat
  bool has_text = false;   // a message (or command arguments) with text
};

// What an update is, as far as matching goes.
struct Incoming {
  UpdateKind kind = UpdateKind::text;
  bool group = false;
  bool admin = false;           // the sender is an admin writing in their private chat
  std::string command;          // kind == command: lower case, without '/' and "@bot"
  std::string text;             // the message text (a command's: its arguments, a deep link's payload)
  std::string callback_data;    // kind == callback
};

struct CommandOptions {
  Filter filter;
  // Shown in the command menu with the text of this catalogue key (empty: not in the menu).
  std::string menu_key;
  // Where in the menu (lower first; ties in registration order). Admin commands are shown only in
  // the admins' chat-scoped menus, after everyone's.
  int menu_rank = 100;
};

// One entry of a command menu.
struct MenuCommand {
  std::string command;
  std::string description_key;
};

class Router {
 public:
  using Handler = net::awaitable<void> (*)(Context&);
  template <class T>
  using CallbackHandler = net::awaitable<void> (*)(Context&, T);

  struct Route {
    std::string name;  // "/start", "cb:a", "text"… (logs and tests)
    UpdateKind kind;
    Filter filter;
    std::string command;  // kind == command
    std::string prefix;   // kind == callback
    std::function<bool(std::string_view)> accepts;  // kind == callback: the data decodes as this kind
    std::function<net::awaitable<void>(Context&)> run;
    CommandOptions options;
  };

  // "/<name>", and the same handler for each alias (not shown in the menu). Names are lower case.
  void command(std::string name, CommandOptions options, Handler handler, std::vector<std::string> aliases = {});
  // Buttons of kind T (T::kPrefix); the handler gets the decoded data. Data that does not decode as T
  // does not match (it goes on to the next route, in the end to the fallback).
  template <class T>
  void callback(Filter filter, CallbackHandler<T> handler) {
    add_callback(
        std::string(T::kPrefix), filter, [](std::string_view d) { return decode<T>(d).has_value(); },
        [handler](Context& c) { return run_callback<T>(handler, c); });
  }
  template <class T>
  void callback(CallbackHandler<T> handler) {
    callback<T>(Filter{}, handler);
  }
  // Updates of a kind other than command and callback.
  void on(UpdateKind kind, Filter filter, Handler handler, std::string name = {});
  void on(UpdateKind kind, Handler handler, std::string name = {}) { on(kind, Filter{}, handler, std::move(name)); }
  // What a command or button nobody handles gets (the unknown-command answer, the stale-button one).
  void unknown_command(Handler handler);
  void unknown_button(Handler handler);

  // The first route that matches; the fallback for an unmatched command or button; nullptr if none.
  const Route* match(const Incoming& in) const;

  // The command menu: everyone's commands, or (admins) everyone's and then the admin ones.
  std::vector<MenuCommand> menu(bool admin) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  void add_callback(std::string prefix, Filter filter, std::function<bool(std::string_view)> accepts,
                    std::function<net::awaitable<void>(Context&)> run);
  static std::string_view data_of(const Context& c);
  template <class T>
  static net::awaitable<void> run_callback(CallbackHandler<T> handler, Context& c) {
    auto data = decode<T>(data_of(c));
    if (data) co_await handler(c, std::move(*data));
  }

  std::vector<Route> routes_;
  std::optional<Route> unknown_command_;
  std::optional<Route> unknown_button_;
};

bool passes(const Filter& f, const Incoming& in);

// What a message says to a bot called `bot_username`: in a private chat everything is addressed to
// it; in a group only a command (checked to be this bot's), a mention (removed from a prompt) or a
// reply to the bot. nullopt if the message is not for this bot.
struct MessageView {
  UpdateKind kind = UpdateKind::text;  // command, text or other_message
  std::string command;
  std::string text;  // the prompt, or a command's arguments
};
std::optional<MessageView> read_message(std::string_view text, bool group, std::string_view bot_username,
                                        bool reply_to_bot);

}  // namespace igb::bot
