// The operator portal's static bundle under /ui/ (built into ui/dist by `npm run build:ui`).
// The files carry no data, so they are served before authentication: the portal signs in
// with a bearer token and makes every call as an ordinary API request under that identity.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';

export const portalDirectory = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../ui/dist');

export function serveUi(directory = portalDirectory): express.Router {
  const router = express.Router({ strict: true });
  // "/ui" itself: relative asset URLs only resolve below "/ui/".
  router.get('/', (req, res, next) => (req.originalUrl.split('?')[0] === '/ui' ? res.redirect(301, '/ui/') : next()));
  router.use(
    express.static(directory, {
      index: 'index.html',
      redirect: false,
      // Hashed asset names never change content; index.html must always be asked again.
      setHeaders: (res, file) =>
        res.setHeader('Cache-Control', file.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable'),
    }),
  );
  router.use((_req, res) => {
    if (!existsSync(path.join(directory, 'index.html'))) {
      res.status(503).type('text/plain').send('The portal is not built: run `npm run build:ui`.\n');
      return;
    }
    res.status(404).type('text/plain').send('Not found.\n');
  });
  return router;
}
