# Sluice worker, CLI and codec server image: compiled TypeScript and a prebuilt workflow bundle, run as a non-root
# user. One image, three roles (docker-compose.yml):
#   worker                          SLUICE_STORE=postgres://..., SLUICE_METRICS_ADDRESS=0.0.0.0:9464, SLUICE_CODEC_KEYS
#   codec-server --host 0.0.0.0     SLUICE_CODEC_KEYS (the workers' keys)
#   run / status / results / cancel the CLI, with the workers' SLUICE_STORE and SLUICE_CODEC_KEYS
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build && npm run build:bundle -- lib/workflow-bundle.js && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production SLUICE_WORKFLOW_BUNDLE=/app/lib/workflow-bundle.js
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/lib ./lib
COPY bin ./bin
COPY examples ./examples
USER node
# 9464: Prometheus metrics of a worker (when SLUICE_METRICS_ADDRESS=0.0.0.0:9464); 8888: the codec server.
EXPOSE 9464 8888
ENTRYPOINT ["node", "bin/sluice.js"]
