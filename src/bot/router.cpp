#include "bot/router.hpp"

#include <algorithm>
#include <stdexcept>

#include "bot/context.hpp"
#include "util/strings.hpp"

namespace igb::bot {

bool passes(const Filter& f, const Incoming& in) {
  if (f.chat == ChatScope::private_only && in.group) return false;
  if (f.chat == ChatScope::group_only && !in.group) return false;
  if (f.admin && !in.admin) return false;
  if (f.has_text && in.text.empty()) return false;
  return true;
}

void Router::command(std::string name, CommandOptions options, Handler handler, std::vector<std::string> aliases) {
  if (name.empty() || name != util::to_lower(name))
    throw std::logic_error("bot command '" + name + "': not lower case");
  aliases.insert(aliases.begin(), name);
  for (auto& n : aliases) {
    Route r{.name = "/" + n,
            .kind = UpdateKind::command,
            .filter = options.filter,
            .command = n,
            .run = handler,
            .options = options};
    if (n != name) r.options.menu_key.clear();  // an alias is not a menu entry of its own
    routes_.push_back(std::move(r));
  }
}

void Router::add_callback(std::string prefix, Filter filter, std::function<bool(std::string_view)> accepts,
                          std::function<net::awaitable<void>(Context&)> run) {
  auto name = "cb:" + prefix;
  routes_.push_back(Route{.name = std::move(name),
                          .kind = UpdateKind::callback,
                          .filter = filter,
                          .prefix = std::move(prefix),
                          .accepts = std::move(accepts),
                          .run = std::move(run)});
}

void Router::on(UpdateKind kind, Filter filter, Handler handler, std::string name) {
  if (kind == UpdateKind::command || kind == UpdateKind::callback) {
    throw std::logic_error("bot router: commands and buttons are registered with command() and callback()");
  }
  routes_.push_back(
      Route{.name = name.empty() ? "update" : std::move(name), .kind = kind, .filter = filter, .run = handler});
}

void Router::unknown_command(Handler handler) {
  unknown_command_ = Route{.name = "unknown command", .kind = UpdateKind::command, .run = handler};
}

void Router::unknown_button(Handler handler) {
  unknown_button_ = Route{.name = "unknown button", .kind = UpdateKind::callback, .run = handler};
}

const Router::Route* Router::match(const Incoming& in) const {
  const auto prefix = in.kind == UpdateKind::callback ? callback_prefix(in.callback_data) : std::string_view();
  for (const auto& r : routes_) {
    if (r.kind != in.kind || !passes(r.filter, in)) continue;
    if (r.kind == UpdateKind::command && r.command != in.command) continue;
    if (r.kind == UpdateKind::callback && (prefix.empty() || r.prefix != prefix || !r.accepts(in.callback_data)))
      continue;
    return &r;
  }
  if (in.kind == UpdateKind::command && unknown_command_) return &*unknown_command_;
  if (in.kind == UpdateKind::callback && unknown_button_) return &*unknown_button_;
  return nullptr;
}

std::vector<MenuCommand> Router::menu(bool admin) const {
  struct Entry {
    bool admin;
    int rank;
    std::size_t order;
    MenuCommand command;
  };
  std::vector<Entry> entries;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const auto& r = routes_[i];
    if (r.kind != UpdateKind::command || r.options.menu_key.empty()) continue;
    if (r.filter.admin && !admin) continue;
    // A command registered twice (say, once per chat kind) is one menu entry.
    if (std::any_of(entries.begin(), entries.end(), [&](const Entry& e) { return e.command.command == r.command; }))
      continue;
    entries.push_back({r.filter.admin, r.options.menu_rank, i, {r.command, r.options.menu_key}});
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.admin != b.admin) return !a.admin;
    return a.rank < b.rank;
  });
  std::vector<MenuCommand> out;
  out.reserve(entries.size());
  for (auto& e : entries) out.push_back(std::move(e.command));
  return out;
}

std::string_view Router::data_of(const Context& c) { return c.callback_data(); }

std::optional<MessageView> read_message(std::string_view original, bool group, std::string_view bot_username,
                                        bool reply_to_bot) {
  std::string text(original);
  bool addressed = !group;
  if (group) {
    // In groups only /img …, a mention, a command for this bot, or a reply to the bot.
    const auto mention = "@" + std::string(bot_username);
    if (!bot_username.empty() && text.find(mention) != std::string::npos) {
      addressed = true;
      if (!text.starts_with("/")) text.erase(text.find(mention), mention.size());
    }
    if (reply_to_bot) addressed = true;
    if (text.starts_with("/")) addressed = true;  // whose command it is is checked below
  }
  if (!addressed) return std::nullopt;
  if (text.empty()) return MessageView{.kind = UpdateKind::other_message};
  if (!text.starts_with("/")) return MessageView{.kind = UpdateKind::text, .text = std::move(text)};
  auto end = text.find_first_of(" \n\t");
  auto word = text.substr(1, end == std::string::npos ? std::string::npos : end - 1);
  std::string args = end == std::string::npos ? "" : std::string(util::trim(std::string_view(text).substr(end)));
  auto at = word.find('@');
  if (at != std::string::npos) {
    if (word.substr(at + 1) != bot_username) return std::nullopt;  // another bot's command
    word.resize(at);
  }
  return MessageView{.kind = UpdateKind::command, .command = util::to_lower(word), .text = std::move(args)};
}

}  // namespace igb::bot
