# The MONOid API server image: `docker build -t monoid-api .`, then
#   docker run -p 3000:3000 -e DATABASE_URL=... -e REDIS_URL=... -e ENCRYPTION_KEY=... \
#     -e CLERK_SECRET_KEY=... -e CLERK_PUBLISHABLE_KEY=... monoid-api
# Without DATABASE_URL it runs on the embedded database in the /data volume.

# Build stage: every dependency, TypeScript compiled to dist/ (source maps included).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies only, the compiled code and the migrations.
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY migrations ./migrations
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# The slim image has no curl: node itself asks /readyz (database reachable, migrations applied).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself (no shell, no npm in between); it handles
# SIGTERM/SIGINT and exits within SHUTDOWN_TIMEOUT_MS. Migrations run at start, under a Postgres
# advisory lock when several instances start together. Stack traces name the TypeScript sources
# with NODE_OPTIONS=--enable-source-maps (dist/ carries the maps).
CMD ["node", "dist/server.js"]
