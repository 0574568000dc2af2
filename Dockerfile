# ImgGenBot: one image for every role (serve, api, bot, worker and the operator commands).
#   docker build -t imggenbot .
#   docker run --rm -p 127.0.0.1:8080:8080 -v imggenbot-data:/var/lib/imggenbot/data imggenbot serve
# See docs/deploy.md and docker-compose.yml.

# Base images: the official debian:bookworm-slim, or where no registry answers the same made from
# Debian's archive (scripts/docker-base-images.sh). The classic builder and BuildKit both build this
# file; no `# syntax=` line, which would make BuildKit pull a frontend image.

# Build: the same install-and-build scripts CI uses, with the build dependencies only.
FROM debian:bookworm-slim AS build
ENV IMGGENBOT_DEPS=build
WORKDIR /src
# Dependencies first, in a layer of their own, so a source change does not reinstall them.
COPY scripts/deps.sh scripts/
RUN scripts/deps.sh && apt-get clean && rm -rf /var/lib/apt/lists/*
# Then the sources (.dockerignore keeps tests, benchmarks and docs out: editing them rebuilds nothing).
COPY . .
RUN scripts/build.sh release --target imggenbot \
 && install -D -m 0755 build/release/src/app/imggenbot /out/imggenbot \
 && strip /out/imggenbot \
 && scripts/runtime-packages.sh /out/imggenbot > /out/runtime-packages \
 && echo "runtime packages:" $(cat /out/runtime-packages)

# Runtime: the binary, the Debian packages that hold its shared libraries, and CA certificates. No
# compiler; apt's caches, lists and logs go in the same layer that made them (a base image without the
# official image's docker-clean apt setting would otherwise keep every downloaded .deb).
FROM debian:bookworm-slim
COPY --from=build /out/runtime-packages /tmp/runtime-packages
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      ca-certificates $(cat /tmp/runtime-packages) \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log /tmp/runtime-packages \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/imggenbot --shell /usr/sbin/nologin imggenbot \
 && install -d -o imggenbot -g imggenbot /var/lib/imggenbot /var/lib/imggenbot/data
COPY --from=build /out/imggenbot /usr/local/bin/imggenbot

USER imggenbot
WORKDIR /var/lib/imggenbot
# Images (and the SQLite file, when DATABASE_URL is not PostgreSQL) live on this volume; a new named
# volume mounted here starts owned by the imggenbot user.
ENV DATA_DIR=/var/lib/imggenbot/data \
    DATABASE_URL=sqlite:///var/lib/imggenbot/data/imggenbot.db \
    HTTP_LISTEN=0.0.0.0:8080
VOLUME ["/var/lib/imggenbot/data"]
EXPOSE 8080
# GET /healthz on HTTP_LISTEN. Roles without the HTTP API (worker, bot) turn it off (docker-compose.yml).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["imggenbot", "healthcheck"]
# SIGTERM: stop taking work, finish or hand back jobs within SHUTDOWN_GRACE_SECONDS, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["imggenbot"]
CMD ["serve"]
