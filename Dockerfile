# syntax=docker/dockerfile:1.7
# Analytics service image. Build:  docker build -t analytics .
# Without the embedded ClickHouse engine (production against a ClickHouse server, smaller image):
#   docker build --build-arg EMBEDDED_CHDB=false -t analytics .

ARG NODE_VERSION=20.20-bookworm-slim

FROM node:${NODE_VERSION} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json nest-cli.json ./
COPY src ./src
COPY test ./test
COPY bench ./bench
RUN npm run build

FROM node:${NODE_VERSION} AS runtime
ARG EMBEDDED_CHDB=true
ENV NODE_ENV=production \
    DATA_DIR=/data \
    PORT=3004
WORKDIR /app
COPY package.json package-lock.json ./
# chdb is an optional dependency: only the embedded mode needs it (glibc, x64/arm64).
RUN if [ "$EMBEDDED_CHDB" = "true" ]; then npm ci --omit=dev --no-audit --no-fund; \
    else npm ci --omit=dev --omit=optional --no-audit --no-fund; fi \
 && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3004
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3004)+'/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
# SIGTERM drains the ingest log into the store before exit.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
