# Sluice worker and CLI image: compiled TypeScript and a prebuilt workflow bundle, run as a non-root user.
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
ENTRYPOINT ["node", "bin/sluice.js"]
