# Switchyard's API and worker (one image, two commands). Used by docker-compose.yml.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
# Bundle the workflow code once at build time; the worker loads it instead of bundling at start.
RUN node --import tsx -e "import('./worker/create-worker.ts').then(async (m) => { const b = await m.bundleWorkflows(); require('node:fs').writeFileSync('/app/workflow-bundle.js', b.code); })"
ENV SWITCHYARD_WORKFLOW_BUNDLE=/app/workflow-bundle.js
EXPOSE 3000
CMD ["node", "--import", "tsx", "api/main.ts"]
