import { LRUCache } from 'lru-cache';
import UAParser from 'ua-parser-js';

export interface ParsedUserAgent {
  browser: string;
  browserVersion: string;
  os: string;
  osVersion: string;
  /** desktop | mobile | tablet | console | smarttv | wearable | embedded | '' when no user agent */
  deviceType: string;
}

const EMPTY: ParsedUserAgent = { browser: '', browserVersion: '', os: '', osVersion: '', deviceType: '' };

/**
 * Browser / OS / device from a user agent with ua-parser-js. Traffic repeats a small set of
 * user agents, and parsing is regex-heavy, so results are cached.
 */
export class UserAgentParser {
  private readonly cache = new LRUCache<string, ParsedUserAgent>({ max: 10_000 });

  parse(userAgent: string | undefined): ParsedUserAgent {
    if (!userAgent) return EMPTY;
    let parsed = this.cache.get(userAgent);
    if (!parsed) {
      const r = new UAParser(userAgent).getResult();
      parsed = {
        browser: r.browser.name ?? '',
        browserVersion: r.browser.major ?? '',
        os: r.os.name ?? '',
        osVersion: r.os.version ?? '',
        // ua-parser-js leaves device.type empty for desktops; a client it cannot place at all
        // (curl, a server SDK) has no device type.
        deviceType: r.device.type ?? (r.browser.name || r.os.name ? 'desktop' : ''),
      };
      this.cache.set(userAgent, parsed);
    }
    return parsed;
  }
}
