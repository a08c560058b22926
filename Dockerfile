# Multi-stage build: compile with dev dependencies, ship the compiled service with production ones.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# argon2 builds its native addon when no prebuilt binary fits.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY migrations ./migrations
# docs/asyncapi.yaml is served at /docs/asyncapi.yaml: the build copies it into dist/ (nest-cli.json).
COPY docs ./docs
# The typed client and the demo page (dist/demo), built with the service; the page is off in
# production unless DEMO_PAGE=true.
COPY client ./client
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config ./config
COPY package.json ./
USER node
EXPOSE 3000
# ROLE=api | worker | all; DATABASE_URL, REDIS_URL and JWT_SECRET are required in production.
# The V8 flags are those of `npm start` (package.json; why: README, "Processes").
CMD ["node", "--max-semi-space-size=64", "--single-threaded-gc", "dist/src/main.js"]
