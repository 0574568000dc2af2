// [plans.<id>] tables of the TOML file.
#include <algorithm>
#include <limits>

#include "config/internal.hpp"
#include "util/strings.hpp"

namespace igb::config::detail {

using core::Status;

namespace {

Status apply_plan_fields(core::Plan& plan, const toml::table& table, const std::string& prefix,
                         const std::string& path) {
  static constexpr std::pair<std::string_view, int core::Plan::*> kIntFields[] = {
      {"images_per_period", &core::Plan::images_per_period},
      {"max_pixels", &core::Plan::max_pixels},
      {"max_side", &core::Plan::max_side},
      {"max_concurrent_jobs", &core::Plan::max_concurrent_jobs},
      {"priority", &core::Plan::priority},
      {"images_per_request", &core::Plan::images_per_request},
      {"price_stars", &core::Plan::price_stars},
  };
  for (auto&& [key, node] : table) {
    std::string name = prefix + "." + std::string(key.str());
    if (key.str() == "title") {
      const auto* s = node.as_string();
      if (s == nullptr || util::trim(s->get()).empty()) return invalid(name, "expected a non-empty string", path);
      plan.title = s->get();
      continue;
    }
    if (key.str() == "period") {
      const auto* s = node.as_string();
      if (s != nullptr && s->get() == "daily") {
        plan.period = core::PeriodKind::daily;
      } else if (s != nullptr && s->get() == "30d") {
        plan.period = core::PeriodKind::days30;
      } else {
        return invalid(name, "expected \"daily\" or \"30d\"", path);
      }
      continue;
    }
    if (key.str() == "failed_attempts_per_period") {  // optional: unset means images_per_period
      const auto* i = node.as_integer();
      if (i == nullptr || i->get() < 0 || i->get() > std::numeric_limits<int>::max()) {
        return invalid(name, "expected an integer, 0 or more (0: no limit)", path);
      }
      plan.failed_attempts_per_period = static_cast<int>(i->get());
      continue;
    }
    auto field =
        std::find_if(std::begin(kIntFields), std::end(kIntFields), [&](const auto& f) { return f.first == key.str(); });
    if (field == std::end(kIntFields)) return unknown_key(name, key.source(), path);
    const auto* i = node.as_integer();
    if (i == nullptr || i->get() < std::numeric_limits<int>::min() || i->get() > std::numeric_limits<int>::max()) {
      return invalid(name, "expected an integer", path);
    }
    plan.*(field->second) = static_cast<int>(i->get());
  }
  return core::Ok{};
}

}  // namespace

// [plans.<id>] tables: an existing id overrides the given fields; a new id adds a plan that starts
// from the (configured) free plan, runs for 30 days (paid plans must) and needs a price.
Status apply_plans(const toml::node& node, const std::string& path, std::vector<core::Plan>& plans) {
  const auto* table = node.as_table();
  if (table == nullptr) return invalid("plans", "expected tables [plans.<id>]", path);
  struct Entry {
    std::string id;
    const toml::table* fields;
    std::uint32_t line;
  };
  std::vector<Entry> overrides;
  std::vector<Entry> additions;
  for (auto&& [key, value] : *table) {
    std::string id(key.str());
    const auto* fields = value.as_table();
    if (fields == nullptr) return invalid("plans." + id, "expected a table [plans." + id + "]", path);
    if (!is_short_id(id)) return invalid("plans." + id, "a plan id is 1 to 32 of A-Z a-z 0-9 _ -", path);
    bool exists = std::any_of(plans.begin(), plans.end(), [&](const core::Plan& p) { return p.id == id; });
    (exists ? overrides : additions).push_back(Entry{id, fields, key.source().begin.line});
  }
  for (const auto& e : overrides) {
    auto& plan = *std::find_if(plans.begin(), plans.end(), [&](const core::Plan& p) { return p.id == e.id; });
    if (auto s = apply_plan_fields(plan, *e.fields, "plans." + e.id, path); !s) return std::move(s).error();
  }
  // toml++ keeps keys sorted; add new plans in the file's order.
  std::stable_sort(additions.begin(), additions.end(), [](const Entry& a, const Entry& b) { return a.line < b.line; });
  core::Plan base;
  if (auto free = std::find_if(plans.begin(), plans.end(), [](const core::Plan& p) { return p.id == "free"; });
      free != plans.end()) {
    base = *free;
  }
  for (const auto& e : additions) {
    if (!e.fields->contains("price_stars")) return invalid("plans." + e.id, "a new plan needs price_stars", path);
    core::Plan plan = base;
    plan.id = e.id;
    plan.title = e.id;
    plan.period = core::PeriodKind::days30;
    if (auto s = apply_plan_fields(plan, *e.fields, "plans." + e.id, path); !s) return std::move(s).error();
    plans.push_back(std::move(plan));
  }
  return core::Ok{};
}

}  // namespace igb::config::detail
