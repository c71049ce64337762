# syntax=docker/dockerfile:1
# The `anb` binary on Debian 12 with FFmpeg 5.1's shared libraries (see README, "Deploying").
#   docker build -t anb-showcase .
#   docker run -p 8080:8080 anb-showcase            # `anb all` on the embedded defaults
# The same image runs `serve`, `worker` and `migrate` (the command is the argument).

# Build: Rust 1.95 (the workspace's rust-version) on Debian 12, whose FFmpeg is 5.1.
FROM rust:1.95-bookworm AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        pkg-config clang libclang-dev \
        libavcodec-dev libavformat-dev libavfilter-dev libavdevice-dev \
        libswscale-dev libswresample-dev libavutil-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin anb \
    && install -D -m 0755 target/release/anb /out/anb

# Runtime: the FFmpeg 5.1 libraries the binary links (libavcodec59, libavformat59,
# libavfilter8, libswscale6, libavutil57; libswresample4 comes with them) and CA certificates.
FROM debian:12-slim
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="ANB Showcase" \
      org.opencontainers.image.description="Basketball skill-video showcase: the anb API and worker" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/debian:12-slim"
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates \
        libavcodec59 libavformat59 libavfilter8 libswscale6 libswresample4 libavutil57 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 anb \
    && useradd --system --uid 10001 --gid anb --home-dir /var/lib/anb --shell /usr/sbin/nologin anb \
    && install -d -o anb -g anb -m 0750 /var/lib/anb
COPY --from=build /out/anb /usr/local/bin/anb
COPY deploy/docker/healthcheck.sh /usr/local/bin/anb-healthcheck
USER 10001:10001
WORKDIR /var/lib/anb
ENV ANB_HTTP_ADDR=0.0.0.0:8080 \
    ANB_DATA_DIR=/var/lib/anb
VOLUME ["/var/lib/anb"]
EXPOSE 8080
# `anb worker` serves no HTTP: containers running it override this check (compose.yaml does).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["anb-healthcheck", "/health"]
ENTRYPOINT ["anb"]
CMD ["all"]
