// The route table, Request and Response helpers: no Beast here.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <stdexcept>

#include "server/server.hpp"
#include "server/wire.hpp"

namespace igb::server {

std::string_view Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (wire::iequals(k, name)) return v;
  return {};
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

Response Response::problem(int status, std::string_view title, std::string_view detail,
                           std::string_view extra_members) {
  namespace json = boost::json;
  bool own_type = false;
  if (!extra_members.empty()) {
    std::string object;
    object.reserve(extra_members.size() + 2);
    object += '{';
    object += extra_members;
    object += '}';
    boost::system::error_code ec;
    json::value parsed = json::parse(object, ec);
    if (ec || !parsed.is_object()) {
      // A caller's bug; the answer stays valid JSON without them.
      spdlog::error("http: problem response: extra members are not valid JSON members, dropped");
      extra_members = {};
    } else {
      own_type = parsed.as_object().contains("type");
    }
  }
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/problem+json");
  std::string& b = r.body;
  b.reserve(64 + title.size() + detail.size() + extra_members.size());
  b += '{';
  if (!own_type) b += "\"type\":\"about:blank\",";
  b += "\"title\":";
  b += json::serialize(json::string_view(title.data(), title.size()));
  b += ",\"status\":";
  b += std::to_string(status);
  b += ",\"detail\":";
  b += json::serialize(json::string_view(detail.data(), detail.size()));
  if (!extra_members.empty()) {
    b += ',';
    b += extra_members;
  }
  b += '}';
  return r;
}

namespace {

constexpr std::size_t kMaxSegments = 16;  // in a route pattern

// Calls f(segment) for each '/'-separated segment after the leading '/'; "/" has one empty segment.
template <class F>
bool for_each_segment(std::string_view path, F f) {
  if (path.empty() || path.front() != '/') return false;
  std::size_t pos = 1;
  for (;;) {
    std::size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    if (!f(path.substr(pos, end - pos))) return false;
    if (end == path.size()) return true;
    pos = end + 1;
  }
}

}  // namespace

void RouteTable::add(std::string method, std::string pattern, Handler handler, RouteDoc doc) {
  if (method.empty() || !wire::valid_header_name(method))
    throw std::invalid_argument("route: invalid method '" + method + "'");
  if (!handler) throw std::invalid_argument("route: empty handler for " + method + " " + pattern);

  std::vector<Segment> segments;
  std::string shape;  // the pattern with every parameter written "{}": two patterns alike are ambiguous
  bool has_params = false;
  const bool ok = for_each_segment(pattern, [&](std::string_view seg) {
    Segment s;
    if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
      s.param = true;
      s.text = std::string(seg.substr(1, seg.size() - 2));
      if (s.text.empty() || s.text.find_first_of("{}/") != std::string::npos) return false;
      for (const auto& other : segments)
        if (other.param && other.text == s.text) return false;  // a name used twice
      has_params = true;
      shape += "/{}";
    } else {
      if (seg.find_first_of("{}") != std::string_view::npos) return false;  // "{id}.json" is not supported
      s.text = std::string(seg);
      shape += '/';
      shape += seg;
    }
    segments.push_back(std::move(s));
    return true;
  });
  if (!ok || segments.size() > kMaxSegments) throw std::invalid_argument("route: invalid pattern '" + pattern + "'");

  std::size_t entry_index = paths_.size();
  for (std::size_t i = 0; i < paths_.size(); ++i) {
    if (paths_[i].pattern == pattern) {
      entry_index = i;
      break;
    }
    std::string other_shape;
    for (const auto& s : paths_[i].segments) other_shape += s.param ? std::string("/{}") : "/" + s.text;
    if (other_shape == shape)
      throw std::invalid_argument("route: pattern '" + pattern + "' is ambiguous with '" + paths_[i].pattern + "'");
  }
  if (entry_index == paths_.size()) {
    PathEntry entry;
    entry.pattern = pattern;
    entry.segments = std::move(segments);
    paths_.push_back(std::move(entry));
    if (has_params)
      param_paths_.push_back(entry_index);
    else
      literal_paths_.emplace(pattern, entry_index);
  }
  PathEntry& entry = paths_[entry_index];
  const bool twice =
      std::any_of(entry.methods.begin(), entry.methods.end(), [&](const auto& added) { return added.first == method; });
  if (twice) throw std::invalid_argument("route: " + method + " " + pattern + " added twice");

  entry.methods.emplace_back(method, routes_.size());
  routes_.push_back(Route{std::move(method), std::move(pattern), std::move(handler), std::move(doc)});

  // Allow: in the order added, HEAD right after GET when served by it.
  bool has_head = false;
  for (const auto& [m, index] : entry.methods) has_head |= m == "HEAD";
  entry.allow.clear();
  for (const auto& [m, index] : entry.methods) {
    if (!entry.allow.empty()) entry.allow += ", ";
    entry.allow += m;
    if (m == "GET" && !has_head) entry.allow += ", HEAD";
  }
}

const RouteTable::PathEntry* RouteTable::find_path(std::string_view path) const {
  if (auto it = literal_paths_.find(path); it != literal_paths_.end()) return &paths_[it->second];
  // The path's segments, split once for every pattern to compare with (more than any pattern has
  // cannot match).
  std::array<std::string_view, kMaxSegments> segs;
  std::size_t count = 0;
  const bool fits = for_each_segment(path, [&](std::string_view seg) {
    if (count == kMaxSegments) return false;
    segs[count++] = seg;
    return true;
  });
  if (!fits) return nullptr;
  const PathEntry* best = nullptr;
  for (std::size_t index : param_paths_) {
    const PathEntry& e = paths_[index];
    if (e.segments.size() != count) continue;
    bool matched = true;
    for (std::size_t i = 0; i < count && matched; ++i) {
      const Segment& s = e.segments[i];
      matched = s.param ? !segs[i].empty() : segs[i] == s.text;
    }
    if (!matched) continue;
    if (!best) {
      best = &e;
      continue;
    }
    // Both matched the same path, so they have as many segments and differ in kind somewhere
    // (equal shapes are refused by add()): the first literal one wins.
    for (std::size_t k = 0; k < e.segments.size(); ++k) {
      if (e.segments[k].param != best->segments[k].param) {
        if (!e.segments[k].param) best = &e;
        break;
      }
    }
  }
  return best;
}

RouteTable::MatchRef RouteTable::match_ref(std::string_view method, std::string_view path,
                                           std::map<std::string, std::string>& params) const {
  params.clear();
  MatchRef out;
  const PathEntry* e = find_path(path);
  if (!e) return out;
  out.pattern = &e->pattern;
  const Handler* get = nullptr;
  for (const auto& [m, index] : e->methods) {
    if (m == method) {
      out.handler = &routes_[index].handler;
      break;
    }
    if (m == "GET") get = &routes_[index].handler;
  }
  if (!out.handler && method == "HEAD") out.handler = get;  // HEAD is GET without the body
  if (!out.handler) {
    out.allow = e->allow;
    return out;
  }
  std::size_t i = 0;
  for_each_segment(path, [&](std::string_view seg) {
    const Segment& s = e->segments[i++];
    if (s.param) params.insert_or_assign(s.text, std::string(seg));
    return true;
  });
  return out;
}

RouteTable::Match RouteTable::match(std::string_view method, std::string_view path) const {
  Match m;
  auto ref = match_ref(method, path, m.params);
  m.handler = ref.handler;
  if (ref.pattern) m.pattern = *ref.pattern;
  if (!ref.handler && ref.pattern) {
    std::string_view allow = ref.allow;
    while (!allow.empty()) {
      auto comma = allow.find(", ");
      m.allowed.emplace_back(allow.substr(0, comma));
      allow = comma == std::string_view::npos ? std::string_view() : allow.substr(comma + 2);
    }
  }
  return m;
}

}  // namespace igb::server
