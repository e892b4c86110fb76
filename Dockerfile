# Arbiter, the TM: one node per container.
#   docker build -t arbiter .
#   docker run -v "$PWD/arbiter.yaml:/etc/arbiter/arbiter.yaml:ro" -v arbiter-data:/var/lib/arbiter \
#     -p 127.0.0.1:50051:50051 arbiter
# docker-compose.yml runs it (profiles `single` and `cluster`, configs in
# deploy/compose/); test/integration/deploy/compose-command-lines.test.ts runs
# this file's ENTRYPOINT, CMD and HEALTHCHECK against real databases.

# --- build: compile TypeScript to dist/ (needs the dev dependencies) -------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# What tsconfig.build.json compiles, and the script that copies the .proto files next to the built loader.
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-protos.mjs ./scripts/
COPY proto ./proto
COPY adapters ./adapters
COPY client ./client
COPY server ./server
RUN npm run build

# --- runtime: production dependencies, the build, the launcher -------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY proto ./proto
COPY bin ./bin
# /var/lib/arbiter: the file decision log (dataDir in deploy/compose/*.yaml), owned by the
# unprivileged user, so a named volume mounted there starts out writable by it.
# /etc/arbiter: where the config is mounted. `arbiter` on the PATH: `docker exec … arbiter admin …`.
RUN mkdir -p /var/lib/arbiter /etc/arbiter \
  && chown node:node /var/lib/arbiter \
  && ln -s /app/bin/arbiter.js /usr/local/bin/arbiter
# The node image's unprivileged user (uid 1000).
USER node
EXPOSE 50051 9464
# /readyz on the metrics port (metrics.listen, 9464 in deploy/compose/*.yaml): 200 once start-up recovery
# finished and while the decision log can write. The slim image has no curl: Node's own fetch.
HEALTHCHECK --interval=5s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/readyz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# bin/arbiter.js runs the built dist/server/main.js (tsx, a dev dependency, is not needed).
# SIGTERM (docker stop) is a graceful stop: commits in flight finish (shutdownGraceMs).
ENTRYPOINT ["node", "/app/bin/arbiter.js"]
CMD ["serve", "--config", "/etc/arbiter/arbiter.yaml"]
