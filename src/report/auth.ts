/**
 * Who may talk to a dashboard. Bound to a loopback address, anyone on this machine may (as with
 * any local dev server), but the Host header must name a loopback host (no DNS rebinding). Bound
 * to any other address, every request — the page and the event stream alike — must carry the
 * access token (`?token=` or `Authorization: Bearer`), generated with crypto.randomBytes and
 * compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export function sameToken(given: string | null, expected: string): boolean {
  return given !== null && timingSafeEqual(digest(given), digest(expected));
}

export function requestToken(req: IncomingMessage, url: URL): string | null {
  const q = url.searchParams.get('token');
  if (q !== null) return q;
  const auth = req.headers.authorization;
  return auth !== undefined && /^Bearer /i.test(auth) ? auth.slice(7).trim() : null;
}

/** null when allowed, else the status and reason to refuse with. */
export function refusal(req: IncomingMessage, url: URL, token: string | null): { status: number; reason: string } | null {
  if (token !== null) return sameToken(requestToken(req, url), token) ? null : { status: 401, reason: 'missing or wrong access token (use the URL the dashboard printed)' };
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  return isLoopback(host) ? null : { status: 403, reason: 'this dashboard answers only on localhost' };
}
