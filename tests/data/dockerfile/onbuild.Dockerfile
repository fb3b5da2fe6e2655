FROM node:20-alpine
WORKDIR /usr/src/app
ONBUILD ARG NODE_ENV
ONBUILD ENV NODE_ENV=$NODE_ENV
ONBUILD COPY --chown=node:node package*.json ./
ONBUILD RUN npm ci --omit=dev
ONBUILD COPY . .
ONBUILD RUN <<EOF
npm run build
EOF
ONBUILD HEALTHCHECK CMD ["node", "healthcheck.js"]
onbuild   cmd   [ "npm", "start" ]
