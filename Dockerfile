# syntax=docker/dockerfile:1
# OpenClaw Gateway container image.
#   docker build -t openclaw-gateway .
#   docker run -p 18789:18789 -e OPENCLAW_GATEWAY_TOKEN=$(openssl rand -hex 32) openclaw-gateway
# The image listens on all interfaces (OPENCLAW_GATEWAY_BIND=lan), so the gateway refuses to start
# until a token, password, Tailscale mode or trusted proxy is configured.

ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NODE_ENV=development \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` builds, and the sources are not copied yet.
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY scripts/chmod-cli.mjs ./scripts/chmod-cli.mjs
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ARG OPENCLAW_UID=10001
LABEL org.opencontainers.image.title="openclaw-gateway" \
      org.opencontainers.image.description="Clustered OpenClaw Gateway" \
      org.opencontainers.image.licenses="MIT"
ENV NODE_ENV=production \
    HOME=/home/openclaw \
    OPENCLAW_GATEWAY_BIND=lan \
    OPENCLAW_STATE_DIR=/var/lib/openclaw
RUN groupadd --system --gid ${OPENCLAW_UID} openclaw \
 && useradd --system --uid ${OPENCLAW_UID} --gid ${OPENCLAW_UID} --home-dir /home/openclaw --create-home --shell /usr/sbin/nologin openclaw \
 && mkdir -p /var/lib/openclaw \
 && chown ${OPENCLAW_UID}:${OPENCLAW_UID} /var/lib/openclaw \
 && chmod 0700 /var/lib/openclaw
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
RUN ln -s /app/dist/cli.js /usr/local/bin/openclaw
USER ${OPENCLAW_UID}:${OPENCLAW_UID}
EXPOSE 18789 9464
VOLUME ["/var/lib/openclaw"]
# /healthz answers 200 while the process runs; Kubernetes uses its own probes (see the Helm chart).
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.OPENCLAW_GATEWAY_PORT||18789)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["openclaw", "gateway"]
