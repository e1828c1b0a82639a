/**
 * WhyCam's Content-Security-Policy: everything from its own origin, no inline script, no eval.
 * `'wasm-unsafe-eval'` is there only because the WASM backend compiles its WebAssembly module.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

/** Directives a meta tag cannot carry; sent as a header by the preview server. */
export const HEADER_ONLY_POLICY = "frame-ancestors 'none'";

/**
 * Cross-origin isolation: with these the page gets SharedArrayBuffer, which threaded WASM needs.
 * Everything WhyCam loads is its own origin's, so `require-corp` costs nothing; the service worker
 * adds the same headers to what it serves (workers/sw.ts), for static hosts that cannot send them.
 */
export const ISOLATION_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export const SECURITY_HEADERS: Record<string, string> = {
  ...ISOLATION_HEADERS,
  'Content-Security-Policy': `${CONTENT_SECURITY_POLICY}; ${HEADER_ONLY_POLICY}`,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Permissions-Policy': 'camera=(self), microphone=(), geolocation=()',
};
