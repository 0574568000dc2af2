#pragma once
#include <functional>
#include <memory>
#include <string>

#include "api/context.hpp"
#include "server/server.hpp"

namespace igb::api {

// Every route of the HTTP API. check_database returns "" when the database is reachable and
// migrated, else what is wrong (for /readyz). Serve them with ServerOptions::on_exception =
// api::answer_exception (api/errors.hpp), so that the database out of reach is a 503.
std::shared_ptr<server::RouteTable> build_routes(ApiContext& ctx, std::function<std::string()> check_database);

// The OpenAPI 3.1 document of the routes, generated from their RouteDocs.
std::string openapi_document(const server::RouteTable& routes);

}  // namespace igb::api
