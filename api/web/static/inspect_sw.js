// The inspector pages' service worker (Workbox, served from the app): the pages under /inspect/
// from the network when it answers, else as last seen; scripts, styles and the map layers as
// kept, refreshed in the background. What an inspector records waits in IndexedDB (inspect.js).
/* global workbox */
importScripts('/assets/workbox-core/workbox-core.prod.js', '/assets/workbox-routing/workbox-routing.prod.js',
              '/assets/workbox-strategies/workbox-strategies.prod.js');

const PAGES = 'zonemap-inspect-pages';
const ASSETS = 'zonemap-inspect-assets';
// What every inspector page loads: kept at install, so the first visit already works offline.
const SHELL = ['/static/site.css', '/static/pagemap.js', '/static/inspect.js', '/static/photo_scale.js', '/assets/leaflet/leaflet.js', '/assets/leaflet/leaflet.css',
               '/assets/zonemap/orientation.js', '/assets/zonemap/orientation.css', '/assets/idb/umd.js', '/maps/orientation.geojson'];

self.addEventListener('install', event => {
  event.waitUntil(caches.open(ASSETS).then(cache => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});
workbox.core.clientsClaim();

workbox.routing.registerRoute(
  ({url, request}) => request.method === 'GET' && url.origin === self.location.origin && url.pathname.startsWith('/inspect/')
    && url.pathname !== '/inspect/sw.js',
  new workbox.strategies.NetworkFirst({cacheName: PAGES, networkTimeoutSeconds: 5}));
workbox.routing.registerRoute(
  ({url, request}) => request.method === 'GET' && url.origin === self.location.origin
    && (url.pathname.startsWith('/assets/') || url.pathname.startsWith('/static/') || url.pathname === '/maps/orientation.geojson'),
  new workbox.strategies.StaleWhileRevalidate({cacheName: ASSETS}));
