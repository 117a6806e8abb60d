# Crossdock: the gateway in a container. Build: `docker build -t crossdock .`
# Run:  docker run -p 8080:8080 -e CROSSDOCK_API_TOKEN=... \
#         -v crossdock-data:/srv/crossdock/data -v "$PWD/partners:/srv/crossdock/partners:ro" crossdock
#
# The build is the README's release build: `./scripts/build-release.sh`, a profile-guided
# build (an instrumented binary is trained on generated and sample EDI first).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN rustup component add llvm-tools && ./scripts/build-release.sh

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /srv/crossdock --create-home crossdock
COPY --from=build /src/target/pgo/crossdock /usr/local/bin/crossdock
COPY deploy/crossdock.container.toml /etc/crossdock/crossdock.toml
COPY --chown=crossdock partners /srv/crossdock/partners
COPY --chown=crossdock certs /srv/crossdock/certs
WORKDIR /srv/crossdock
RUN mkdir -p data && chown crossdock data
USER crossdock
VOLUME ["/srv/crossdock/data"]
EXPOSE 8080
# Listening beyond loopback needs a token: the container's configuration reads it from
# CROSSDOCK_API_TOKEN, and the gateway refuses to start without it.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["crossdock"]
CMD ["serve", "--config", "/etc/crossdock/crossdock.toml", "--log-format", "json"]
