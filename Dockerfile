# syntax=docker/dockerfile:1
# One image for every weft process; the Helm chart picks the entrypoint with `command`:
#   node dist/control/main.js      weft-control   (runs as the non-root user `node`, uid 1000)
#   node dist/node-agent/main.js   weft-node-agent (root with NET_ADMIN/SYS_ADMIN/NET_RAW, set by the chart)
#   node dist/cni/install.js       install-cni    (root: writes the node's CNI directories)
#   node dist/waypoint/main.js     weft-waypoint  (non-root; the image's ENTRYPOINT)
# Build: docker build -t ghcr.io/weft-mesh/weft:0.1.0 .

ARG NODE_VERSION=20

# --- build: compile TypeScript and the node agent's N-API addon ---------------------------------------
FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
# The official image keeps Node's headers under /usr/local/include/node (scripts/build-native.mjs).
ENV WEFT_NODEDIR=/usr/local
# npm run build includes build:cni: gcc (in this image) builds dist/cni/weft-cni, the static C plugin
# install-cni copies to nodes.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# --- runtime: slim Node plus the few tools the node agent drives ----------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# nftables/iproute2: capture rules and routes inside pod network namespaces (node agent only).
RUN apt-get update \
 && apt-get install -y --no-install-recommends nftables iproute2 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
# glibc's malloc keeps freed memory (its trim and mmap thresholds grow with the largest block freed, up to
# 32 MiB): weft-control at 10 000 pods held ~55 MB of it after its initial lists (bench/control-scale,
# rssBreakdownMbSteady.anon). Fixed thresholds give large blocks back to the kernel when freed. Benches
# run with the same value (scripts/bench.mjs reads it from this line).
ENV GLIBC_TUNABLES=glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/helm ./helm
# Ports: 15012 control gRPC, 15008 HBONE, 15000 admin, 15020 metrics, 15021 health.
EXPOSE 15012 15008 15020 15021
# Non-root by default (control, waypoint); the chart runs the node agent and install-cni as root.
USER 1000:1000
# The waypoint is the default entrypoint because the control plane's waypoint controller generates its
# Deployment with `args` only (control/waypoints/objects.ts); every chart container sets `command`.
ENTRYPOINT ["node", "dist/waypoint/main.js"]
CMD ["--help"]
