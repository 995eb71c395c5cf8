# users-api container image.
#   make image                         (buildah, as localhost/users-api:dev)
#   docker build -t users-api .        (where a Docker engine is at hand)
# Two stages: "build" compiles the release binary on Debian bookworm and
# gathers the runtime root file system; the final stage is that root on
# scratch: the binary, the shared libraries it loads, /etc/passwd and
# /etc/group for uid 10001, the CA bundle and an empty /data. No shell, no
# package manager. docs/CONTAINER.md says how to run it.

FROM debian:bookworm-slim AS build

# Toolchain and libraries, one package a line (keep in step with
# scripts/install-deps, group build). First, so that a source change reuses
# this layer.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      cmake \
      g++ \
      libboost-json1.81-dev \
      libboost-url1.81-dev \
      libboost1.81-dev \
      libcli11-dev \
      libfmt-dev \
      libpq-dev \
      libsqlite3-dev \
      libssl-dev \
      make \
      ninja-build \
      pkg-config \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# One COPY for the sources: .dockerignore is an allowlist that lets only
# CMakeLists.txt, CMakePresets.json, cmake/, sql/, src/ and third_party/
# into the context (a new build input must be named there).
# (One layer, not five: where layers are full copies, as with podman's vfs
# storage, each costs a copy of this 600 MB stage.)
COPY . .

# The project's release preset without the tests, stripped at link time. Then
# the runtime root: the binary, every shared object ldd names (the loader
# too), /etc/passwd and /etc/group for uid/gid 10001, the CA bundle (TLS to
# PostgreSQL), /data owned by that user, the dpkg record of every Debian
# package a copied file comes from (in /var/lib/dpkg/status.d/, as distroless
# images keep them, so that scanners such as Trivy see the packages and their
# versions); and a run of the binary inside that root, to prove nothing is
# missing.
ARG BUILD_JOBS=
RUN cmake --preset release -DUSERS_API_TESTS=OFF -DCMAKE_EXE_LINKER_FLAGS=-s >/dev/null \
 && cmake --build --preset release --parallel ${BUILD_JOBS} \
 && install -D -m 0755 build/release/users-api /runtime/usr/local/bin/users-api \
 && for lib in $(ldd build/release/users-api | grep -o '/[^ ]*'); do cp --parents -L "$lib" /runtime/; done \
 && mkdir -p /runtime/etc/ssl/certs /runtime/data /runtime/tmp \
 && printf '%s\n' 'root:x:0:0:root:/root:/usr/sbin/nologin' \
      'users-api:x:10001:10001:users-api:/nonexistent:/usr/sbin/nologin' >/runtime/etc/passwd \
 && printf '%s\n' 'root:x:0:' 'users-api:x:10001:' >/runtime/etc/group \
 && cp /etc/ssl/certs/ca-certificates.crt /runtime/etc/ssl/certs/ca-certificates.crt \
 && mkdir -p /runtime/var/lib/dpkg/status.d \
 && for lib in $(ldd build/release/users-api | grep -o '/[^ ]*'); do \
      real=$(realpath "$lib") \
      && owner=$(dpkg -S "*/$(basename "$(dirname "$real")")/$(basename "$real")") \
      && echo "${owner%%:*}" >>/tmp/packages || exit 1; \
    done \
 && for pkg in $(sort -u /tmp/packages) ca-certificates; do \
      dpkg-query -s "$pkg" >"/runtime/var/lib/dpkg/status.d/$pkg" || exit 1; \
    done \
 && chown 10001:10001 /runtime/data \
 && chmod 0750 /runtime/data \
 && chmod 1777 /runtime/tmp \
 && chroot /runtime /usr/local/bin/users-api --version

FROM scratch

COPY --from=build /runtime/ /
# /data again with its owner spelt out: the volume podman or Docker creates
# from it takes that owner, so uid 10001 can write the database there.
COPY --from=build --chown=10001:10001 /runtime/data/ /data/

# OPS_PORT is the binary's default (9000), spelt out next to PORT: the ops
# listener (/healthz, /readyz and /metrics only, a connection cap of its own,
# never throttled). The API port answers 404 on /metrics while it is set.
ENV DATABASE_URL=sqlite:////data/db.sqlite3 \
    HOST=0.0.0.0 \
    PORT=8000 \
    OPS_PORT=9000 \
    LOG_LEVEL=info
USER 10001:10001
# 8000 the API; 9000 the ops port, for probes and Prometheus: publish it only
# where they run (docs/CONTAINER.md), never next to the API on the internet.
EXPOSE 8000 9000
VOLUME ["/data"]
STOPSIGNAL SIGTERM
# GET /readyz on 127.0.0.1:$OPS_PORT ($PORT when OPS_PORT=0): a flood of API
# clients cannot fail it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/users-api", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/users-api"]
CMD ["serve"]

# Last, so that new values only rebuild these metadata steps.
ARG SOURCE=unknown
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="users-api" \
      org.opencontainers.image.description="Users REST service (C++20, Boost.Beast, SQLite or PostgreSQL)" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
