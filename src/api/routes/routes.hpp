#pragma once
#include "api/context.hpp"
#include "server/server.hpp"

namespace igb::api {

// One function per feature folder of the API; build_routes() calls them all.
void add_generation_routes(server::RouteTable& routes, ApiContext& ctx);  // /v1/generate, /v1/status…
void add_image_routes(server::RouteTable& routes, ApiContext& ctx);       // /v1/images/{id}
void add_account_routes(server::RouteTable& routes, ApiContext& ctx);     // /v1/subscription, /v1/plans
void add_ops_routes(server::RouteTable& routes, ApiContext& ctx,
                    std::function<std::string()> check_database);        // /healthz, /readyz, /metrics
void add_doc_routes(server::RouteTable& routes);                         // /openapi.json, /docs

}  // namespace igb::api
