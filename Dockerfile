# syntax=docker/dockerfile:1
# Multi-stage: build with dev dependencies, run with production dependencies only, as a non-root user.
# In a container, set DATABASE_URL to an external PostgreSQL (the embedded one is for laptops and CI).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
# GLIBC_TUNABLES: each 19 MiB argon2id buffer is mapped (as transparent huge pages) and given back
# when its hash is done, instead of kept per thread-pool thread (README, Performance: memory).
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0 GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1048576:glibc.malloc.hugetlb=1
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# --max-semi-space-size=8: a smaller young generation; --max-old-space-size=256: V8 sizes the old generation by this limit, not by the machine (README, Performance: memory).
CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=256", "dist/main.js"]
