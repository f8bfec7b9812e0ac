# syntax=docker/dockerfile:1
#
# agent-safe: the CLI and the HTTP sidecar (`agent-safe serve`), as a non-root image.
#
#   docker build -t agent-safe:0.1.0 .
#   docker run --rm -p 8420:8420 \
#     -v "$PWD/agent-safe.yaml:/etc/agent-safe/config/agent-safe.yaml:ro" ... agent-safe:0.1.0
#
# The default command binds 0.0.0.0 (a published port needs it) and therefore refuses to start
# without TLS: give server.tls_cert/tls_key in the config (or --tls-cert/--tls-key), or run it on
# loopback next to the agent as deploy/kubernetes/agent-safe.yaml does. docs/sidecar.md has the
# details. NOT TRIED HERE: there is no Docker engine on the machine this was written on.

# ---- build: compile TypeScript, bundle the CLI, keep only the runtime dependencies ----
FROM node:20-slim AS build
WORKDIR /src
# better-sqlite3 compiles from source when no prebuilt binary matches the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# Exactly the lockfile's versions; install scripts only for the two packages that need them
# (package.json "allowScripts"), and `prepare` (the build) later, once the sources are here.
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3 esbuild
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs scripts/bundle.mjs
COPY src/ src/
RUN npm run build && npm prune --omit=dev

# ---- runtime ----
FROM node:20-slim
ENV NODE_ENV=production \
    AGENT_SAFE_CONFIG=/etc/agent-safe/config/agent-safe.yaml
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules/ node_modules/
COPY --from=build /src/dist/ dist/
COPY bin/ bin/
COPY actions/ actions/
COPY policies/ policies/
COPY inventory.yaml ./
COPY schemas/ schemas/
# A fixed, unprivileged uid/gid (the Kubernetes manifest runs as 10001:10001) and the data
# directory it owns: the audit log and the SQLite state when no volume is mounted there.
RUN groupadd --system --gid 10001 agent-safe \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/agent-safe --shell /usr/sbin/nologin agent-safe \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/agent-safe
USER 10001:10001
WORKDIR /var/lib/agent-safe
# 8420: the API; 8421: /healthz, /readyz and /metrics when server.ops_port (or --ops-port) is set.
EXPOSE 8420 8421
# Node is PID 1 and handles the signals itself: SIGTERM drains and exits 0, SIGHUP reloads.
ENTRYPOINT ["node", "/app/bin/agent-safe.js"]
CMD ["serve", "--host", "0.0.0.0"]
