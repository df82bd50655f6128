/**
 * Origins a browser may send events from with a client id alone. Patterns: an exact origin
 * (`https://app.example.com`, `http://localhost:3000`), a host on any scheme
 * (`app.example.com`), or a wildcard for subdomains (`*.example.com`, `https://*.example.com`;
 * not the bare domain).
 */
const PATTERN = /^(?:(https?):\/\/)?(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::(\d{1,5}))?$/i;

export function checkOriginPattern(pattern: unknown): string | null {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > 260) return 'must be an origin pattern of 1 to 260 characters';
  return PATTERN.test(pattern) ? null : 'must look like https://app.example.com, app.example.com or *.example.com';
}

export function originAllowed(origin: string | undefined, patterns: readonly string[]): boolean {
  if (!origin) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const scheme = url.protocol.slice(0, -1);
  const host = url.hostname.toLowerCase();
  const port = url.port;
  return patterns.some((p) => {
    const m = PATTERN.exec(p);
    if (!m) return false;
    const [, pScheme, wildcard, pHost, pPort] = m;
    if (pScheme && pScheme.toLowerCase() !== scheme) return false;
    if ((pPort ?? '') !== port) return false;
    const base = pHost!.toLowerCase();
    return wildcard ? host.endsWith(`.${base}`) : host === base;
  });
}
