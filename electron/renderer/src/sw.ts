/**
 * The web app's service worker (scope /app/): keeps the panel's shell (page, script, styles,
 * icons) so an installed Portico opens without a network, and shows its own offline state until
 * the server answers. It never touches the API, the event stream, media or anything else
 * outside /app/: those always go to the network, as without a worker.
 *
 * The page: network first (a new build shows at once), the cached copy when offline. Hashed
 * assets never change: cache first. A new build is a new worker (its shell list differs) that
 * replaces the old cache when it activates.
 */
/// <reference lib="webworker" />
declare const self: ServiceWorkerGlobalScope;
declare const __SHELL__: string[];
declare const __VERSION__: string;

const CACHE = `portico-shell-${__VERSION__}`;
const PAGE = '/app/';

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(__SHELL__))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith('portico-shell-') && name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  // Only the shell: the API, events, media, games and updates are the network's (no respondWith).
  if (request.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith('/app/') && url.pathname !== '/app') return;
  if (request.mode === 'navigate') {
    event.respondWith(
      fetch(request).then(
        (response) => {
          if (response.ok) void caches.open(CACHE).then((cache) => cache.put(PAGE, response.clone()));
          return response;
        },
        async () => (await caches.match(PAGE)) ?? Response.error(),
      ),
    );
    return;
  }
  if (url.pathname.startsWith('/app/assets/')) {
    event.respondWith(caches.match(request).then((hit) => hit ?? fetch(request)));
    return;
  }
  event.respondWith(fetch(request).catch(async () => (await caches.match(request)) ?? Response.error()));
});
