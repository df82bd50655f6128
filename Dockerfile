# syntax=docker/dockerfile:1.7
# Analytics service image for production (ClickHouse server, MongoDB, ... set by environment):
#   docker build -t analytics .
# An all-in-one image that also runs on embedded defaults (chDB inside, ~500 MB more):
#   docker build --build-arg EMBEDDED_CHDB=true -t analytics:embedded .

# Node 24, the current LTS (the target; CI also runs the tests on Node 20.19+).
ARG NODE_VERSION=24-bookworm-slim

FROM node:${NODE_VERSION} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm install, not npm ci: chdb's lock entry names per-platform packages that are not published.
RUN npm install --no-audit --no-fund
COPY tsconfig.json nest-cli.json ./
COPY src ./src
COPY test ./test
COPY bench ./bench
RUN npm run build

FROM node:${NODE_VERSION} AS runtime
ARG EMBEDDED_CHDB=false
ENV NODE_ENV=production \
    DATA_DIR=/data \
    PORT=3004
WORKDIR /app
COPY package.json package-lock.json ./
# chdb is an optional dependency: only the embedded mode needs it (glibc, x64/arm64).
RUN if [ "$EMBEDDED_CHDB" = "true" ]; then npm install --omit=dev --no-audit --no-fund; \
    else npm install --omit=dev --omit=optional --no-audit --no-fund; fi \
 && npm cache clean --force \
 # Reports embed Noto Sans SC / KR Regular and Bold only: the other weights are 100 MB more.
 && find node_modules/@expo-google-fonts -type f \( -name '*.png' -o \( -name '*.ttf' ! -name '*_400Regular.ttf' ! -name '*_700Bold.ttf' \) \) -delete
COPY --from=build /app/dist/src ./dist/src
# The live dashboard's page (/dashboard): static files read at run time; its chart modules are in dist/src.
COPY --from=build /app/src/realtime/dashboard ./src/realtime/dashboard
# Fechatter's .proto, read at run time by the Fechatter source (src/sources/fechatter/fechatter-proto.ts).
COPY --from=build /app/src/sources/fechatter/fechatter.proto ./src/sources/fechatter/fechatter.proto
RUN mkdir -p /data /reports && chown node:node /data /reports
USER node
VOLUME ["/data"]
EXPOSE 3004
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3004)+'/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
# SIGTERM: api stops listening and finishes requests; worker finishes its batch (the rest is
# redelivered); embedded mode drains the local ingest log into the store.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
