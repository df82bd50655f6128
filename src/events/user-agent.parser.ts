import { LRUCache } from 'lru-cache';
import { isbot } from 'isbot';
import UAParser from 'ua-parser-js';

export interface ParsedUserAgent {
  browser: string;
  browserVersion: string;
  os: string;
  osVersion: string;
  /** desktop | mobile | tablet | console | smarttv | wearable | embedded | '' when no user agent */
  deviceType: string;
  /** a crawler, monitor or other bot, by the isbot library's patterns */
  isBot: boolean;
}

const BROWSER_LIKE = /^Mozilla\//;

const EMPTY: ParsedUserAgent = { browser: '', browserVersion: '', os: '', osVersion: '', deviceType: '', isBot: false };

/**
 * Browser / OS / device from a user agent with ua-parser-js, and whether it is a bot (isbot). Traffic repeats a small set of
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
        // isbot also flags HTTP libraries (node, curl, python-requests): those are server-side
        // SDKs sending for real users, so only browser-like agents (crawlers, headless
        // browsers) count as bots.
        isBot: BROWSER_LIKE.test(userAgent) && isbot(userAgent),
      };
      this.cache.set(userAgent, parsed);
    }
    return parsed;
  }
}
