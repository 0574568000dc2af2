// GET /v1/images/{image_id}: the bytes, to the users whose jobs made them.
#include "api/auth.hpp"
#include "api/errors.hpp"
#include "api/routes/routes.hpp"

namespace igb::api {
namespace {

namespace net = boost::asio;

net::awaitable<server::Response> image(ApiContext* ctx, server::Request& req) {
  auto user = co_await authenticate(*ctx, req);
  if (!user) co_return error_response(user.error());
  const auto id = req.params.at("image_id");
  const auto etag = "\"" + id + "\"";
  const bool not_modified = req.header("If-None-Match") == etag;
  auto found = co_await ctx->generation.own_image(id, user->id, /*with_bytes=*/!not_modified);
  if (!found) co_return error_response(core::make_error(core::ErrorCode::not_found, "no such image"));
  server::Response res;
  res.status = not_modified ? 304 : 200;
  res.headers = {
      {"Content-Type", found->image.mime}, {"ETag", etag}, {"Cache-Control", "private, max-age=31536000, immutable"}};
  res.body = std::move(found->bytes);
  co_return res;
}

}  // namespace

void add_image_routes(server::RouteTable& routes, ApiContext& ctx) {
  routes.add(
      "GET", "/v1/images/{image_id}", [&ctx](server::Request& r) { return image(&ctx, r); },
      {.summary = "The image bytes (PNG, JPEG or WebP), with ETag and cache headers",
       .operation_id = "getImage",
       .tag = "generation",
       .auth = true,
       .responses = {{200, "The image"}, {304, "Not modified (If-None-Match)"}, {404, "No such image (or not yours)"}},
       .response_content_type = "image/*"});
}

}  // namespace igb::api
