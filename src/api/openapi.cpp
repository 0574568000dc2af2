// GET /openapi.json (generated from the route table) and GET /docs (a page that renders it).
#include <boost/json.hpp>

#include <set>

#include "api/api.hpp"
#include "api/errors.hpp"
#include "api/routes/routes.hpp"
#include "api/views.hpp"

namespace igb::api {

namespace json = boost::json;
namespace net = boost::asio;

std::string openapi_document(const server::RouteTable& table) {
  json::object paths;
  std::set<std::string> tags;
  for (const auto& r : table.routes()) {
    json::object op{{"summary", r.doc.summary}, {"operationId", r.doc.operation_id}};
    if (!r.doc.tag.empty()) {
      op["tags"] = json::array{json::value(r.doc.tag)};
      tags.insert(r.doc.tag);
    }
    json::array params;
    std::string_view pattern = r.pattern;
    for (std::size_t pos = pattern.find('{'); pos != std::string_view::npos; pos = pattern.find('{', pos + 1)) {
      auto end = pattern.find('}', pos);
      params.push_back(json::object{{"name", std::string(pattern.substr(pos + 1, end - pos - 1))},
                                    {"in", "path"},
                                    {"required", true},
                                    {"schema", json::object{{"type", "string"}}}});
    }
    if (r.method == "POST" && r.pattern == "/v1/generate") {
      params.push_back(json::object{{"name", "Idempotency-Key"},
                                    {"in", "header"},
                                    {"required", false},
                                    {"description", "Repeating a request with the same key returns the first answer"},
                                    {"schema", json::object{{"type", "string"}, {"maxLength", 128}}}});
    }
    if (!params.empty()) op["parameters"] = std::move(params);
    if (!r.doc.request_schema.empty()) {
      op["requestBody"] = json::object{
          {"required", true},
          {"content", json::object{{"application/json", json::object{{"schema", json::parse(r.doc.request_schema)}}}}}};
    }
    json::object responses;
    for (const auto& [status, description] : r.doc.responses) {
      json::object resp{{"description", description}};
      const bool ok = status < 300;
      if (status != 304) {
        const auto type = ok ? r.doc.response_content_type : std::string("application/problem+json");
        json::object media;
        if (ok && !r.doc.response_schema.empty()) media["schema"] = json::parse(r.doc.response_schema);
        resp["content"] = json::object{{type, std::move(media)}};
      }
      responses[std::to_string(status)] = std::move(resp);
    }
    op["responses"] = std::move(responses);
    if (r.doc.auth) op["security"] = json::array{json::object{{"apiKey", json::array{}}}};
    std::string method = r.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!paths.contains(r.pattern)) paths[r.pattern] = json::object{};
    paths[r.pattern].as_object()[method] = std::move(op);
  }
  json::array tag_list;
  for (const auto& t : tags) tag_list.push_back(json::object{{"name", t}});
  json::object doc{
      {"openapi", "3.1.0"},
      {"info", json::object{{"title", "ImgGenBot API"},
                            {"version", "0.1.0"},
                            {"description",
                             "Text-to-image generation (FLUX.1-schnell) with the same accounts and "
                             "quotas as the Telegram bot. Errors are application/problem+json."}}},
      {"tags", std::move(tag_list)},
      {"paths", std::move(paths)},
      {"components",
       json::object{{"schemas", json::object{{"Job", job_schema()}}},
                    {"securitySchemes", json::object{{"apiKey", json::object{{"type", "http"},
                                                                             {"scheme", "bearer"},
                                                                             {"description",
                                                                              "An API key from /apikey in the bot or "
                                                                              "`imggenbot apikey create`"}}}}}}}};
  return json::serialize(doc);
}

namespace {

constexpr const char* kDocsPage = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ImgGenBot API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
.op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.6rem 1rem}
.m{display:inline-block;min-width:4rem;font-weight:bold;text-transform:uppercase}
.get{color:#0a7}.post{color:#06c}.delete{color:#c33}
code,pre{background:#f5f5f5;padding:.1rem .3rem;border-radius:3px}pre{padding:.6rem;overflow:auto}
small{color:#666}
</style></head><body>
<h1>ImgGenBot API</h1>
<p>The machine-readable document is <a href="/openapi.json">/openapi.json</a>. Authenticate with
<code>Authorization: Bearer &lt;api key&gt;</code>.</p>
<div id="ops">Loading…</div>
<script>
fetch('/openapi.json').then(r => r.json()).then(doc => {
  const out = document.getElementById('ops'); out.textContent = '';
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const div = document.createElement('div'); div.className = 'op';
      const h = document.createElement('div');
      const m = document.createElement('span'); m.className = 'm ' + method; m.textContent = method;
      const p = document.createElement('code'); p.textContent = path;
      h.append(m, p, document.createTextNode(' ' + (op.summary || '') + (op.security ? ' (API key)' : '')));
      div.append(h);
      if (op.requestBody) {
        const pre = document.createElement('pre');
        pre.textContent = JSON.stringify(op.requestBody.content['application/json'].schema, null, 2);
        div.append(pre);
      }
      const ul = document.createElement('ul');
      for (const [status, resp] of Object.entries(op.responses)) {
        const li = document.createElement('li'); li.innerHTML = '<b></b> <small></small>';
        li.firstChild.textContent = status; li.lastChild.textContent = resp.description; ul.append(li);
      }
      div.append(ul); out.append(div);
    }
  }
});
</script></body></html>
)html";

}  // namespace

void add_doc_routes(server::RouteTable& routes) {
  // The document describes the API routes added so far; the documentation routes themselves are
  // left out, as FastAPI does.
  auto document = std::make_shared<const std::string>(openapi_document(routes));
  routes.add("GET", "/openapi.json", [document](server::Request&) -> net::awaitable<server::Response> {
    return [](std::shared_ptr<const std::string> doc) -> net::awaitable<server::Response> {
      co_return server::Response::json(200, *doc);
    }(document);
  });
  routes.add("GET", "/docs", [](server::Request&) -> net::awaitable<server::Response> {
    return []() -> net::awaitable<server::Response> {
      server::Response res;
      res.headers = {{"Content-Type", "text/html; charset=utf-8"}};
      res.body = kDocsPage;
      co_return res;
    }();
  });
}

std::shared_ptr<server::RouteTable> build_routes(ApiContext& ctx, std::function<std::string()> check_database) {
  auto routes = std::make_shared<server::RouteTable>();
  add_generation_routes(*routes, ctx);
  add_image_routes(*routes, ctx);
  add_account_routes(*routes, ctx);
  add_ops_routes(*routes, ctx, std::move(check_database));
  add_doc_routes(*routes);
  // The database out of reach is a 503 with Retry-After, not a 500: answer_exception, which the
  // server that serves these routes installs as ServerOptions::on_exception.
  return routes;
}

}  // namespace igb::api
