import { isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Fechatter's analytics server took the client's IP from the first `x-forwarded-for` entry, else
 * `x-real-ip` (else the event's context); a header that is not an address is skipped.
 */
export function fechatterClientIp(headers: IncomingHttpHeaders): string | undefined {
  const forwarded = header(headers, 'x-forwarded-for')?.split(',')[0]?.trim();
  if (forwarded && isIP(forwarded)) return forwarded;
  const real = header(headers, 'x-real-ip')?.trim();
  if (real && isIP(real)) return real;
  return undefined;
}

const PLACE_HEADERS = {
  country: ['cf-ipcountry', 'x-country', 'cloudfront-viewer-country'],
  region: ['cf-region', 'x-region', 'cloudfront-viewer-country-region'],
  city: ['cf-ipcity', 'x-city', 'cloudfront-viewer-city'],
} as const;

/** Cloudflare's codes for "unknown" and "Tor", which are no country. */
const NO_COUNTRY = new Set(['XX', 'T1']);

/** The place a CDN put in the request's headers, as Fechatter's server read it; absent when none did. */
export function fechatterPlace(headers: IncomingHttpHeaders): { country?: string; region?: string; city?: string } | undefined {
  const place: { country?: string; region?: string; city?: string } = {};
  for (const [key, names] of Object.entries(PLACE_HEADERS) as [keyof typeof PLACE_HEADERS, readonly string[]][]) {
    for (const name of names) {
      const value = header(headers, name)?.trim().slice(0, 128);
      if (value && !(key === 'country' && NO_COUNTRY.has(value.toUpperCase()))) {
        place[key] = value;
        break;
      }
    }
  }
  return Object.keys(place).length > 0 ? place : undefined;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
