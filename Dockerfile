# syntax=docker/dockerfile:1
# handoff in a container: built into the same .deb the packages ship (CPack), installed on a
# Debian slim runtime that runs as a non-root user.
#   docker build -t handoff .
#   docker run --rm handoff --version
#   docker run --rm -v handoff-data:/var/lib/handoff handoff run --demo --once
# deploy/compose.yaml runs the three-host layout (broker + store + report, two scorers, webhook).

FROM debian:bookworm-slim AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config dpkg-dev file git ca-certificates \
        libzmq3-dev libczmq-dev libsodium-dev libmsgpack-dev libxlsxwriter-dev \
        libsqlite3-dev libcsv-dev libyaml-dev libjansson-dev libmicrohttpd-dev \
        libcurl4-openssl-dev libutf8proc-dev zlib1g-dev libgnutls28-dev libjemalloc-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
        -DCMAKE_INSTALL_SYSCONFDIR=/etc -DHO_SOURCE_CONFIG=OFF -DHO_BUILD_TESTS=OFF \
    && cmake --build /build -j"$(nproc)" --target handoff handoff_shared handoff_docs \
    && cd /build && cpack -G DEB && cp handoff_*.deb /handoff.deb

FROM debian:bookworm-slim AS runtime
ARG DEBIAN_FRONTEND=noninteractive
COPY --from=build /handoff.deb /tmp/handoff.deb
RUN apt-get update && apt-get install -y --no-install-recommends /tmp/handoff.deb tzdata \
    && rm -rf /var/lib/apt/lists/* /tmp/handoff.deb \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/handoff --create-home \
        --shell /usr/sbin/nologin handoff
# /etc/handoff holds the shipped configs (mount your own over single files or the folder);
# /var/lib/handoff is the data dir: mount a volume there.
ENV HANDOFF_CONFIG=/etc/handoff/handoff.yaml HO_LOG_LEVEL=info
WORKDIR /var/lib/handoff
VOLUME /var/lib/handoff
USER handoff:handoff
# 5570 broker (ZeroMQ), 8080 webhook (HTTP/HTTPS), 9100 `handoff metrics --listen`
EXPOSE 5570 8080 9100
# healthy = the broker this container belongs to answers (every role needs it)
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["handoff", "status", "--timeout", "3000", "--data-dir", "/var/lib/handoff"]
ENTRYPOINT ["handoff"]
CMD ["run", "--data-dir", "/var/lib/handoff"]
