import { createRequire } from 'node:module';
import type RefererType from '@cgamesplay/referer-parser';
import type * as GeoIp from 'geoip-lite';
import { LRUCache } from 'lru-cache';

/** Page, traffic source and place of a web event, as the events table keeps them. */
export interface WebContext {
  origin: string;
  path: string;
  title: string;
  referrer: string;
  referrer_name: string;
  /** direct | internal | search | social | email | paid | referral ('' when not a web event) */
  referrer_type: string;
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
  utm_term: string;
  utm_content: string;
  country: string;
  region: string;
  city: string;
}

export interface PageInput {
  /** the page's URL, or only its path */
  url?: string;
  referrer?: string;
  title?: string;
}

const require = createRequire(import.meta.url);
// Both are CommonJS; geoip-lite loads its ~110 MB database on first use, not at import.
let geo: typeof GeoIp | undefined;
let Referer: typeof RefererType | undefined;

const UTM = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'] as const;

/**
 * Enriches web events: page origin and path from the URL, UTM parameters from its query, the
 * referrer's source name and type from Snowplow's referer database (@cgamesplay/referer-parser),
 * and country / region / city from the IP with the offline GeoLite2 database in geoip-lite.
 * Lookups repeat (one visitor, many events), so places and referrers are cached.
 */
export class WebContextResolver {
  private readonly places = new LRUCache<string, { country: string; region: string; city: string }>({ max: 50_000 });
  private readonly sources = new LRUCache<string, { name: string; type: string }>({ max: 10_000 });

  /**
   * The web context of an event, only its non-empty fields: the row's JSON stays as short as
   * before for events that are not web traffic (the columns default to '').
   */
  resolve(page: PageInput | undefined, ip: string): Partial<WebContext> {
    return withoutEmpty(this.full(page, ip));
  }

  private full(page: PageInput | undefined, ip: string): WebContext {
    const place = this.place(ip);
    const out: WebContext = {
      origin: '',
      path: '',
      title: page?.title ?? '',
      referrer: '',
      referrer_name: '',
      referrer_type: '',
      utm_source: '',
      utm_medium: '',
      utm_campaign: '',
      utm_term: '',
      utm_content: '',
      ...place,
    };
    if (!page || (page.url === undefined && page.referrer === undefined)) return out;
    const url = parseUrl(page.url);
    if (url) {
      out.origin = url.origin === 'null' ? '' : url.origin;
      out.path = url.pathname;
      for (const key of UTM) out[key] = url.searchParams.get(key) ?? '';
    } else if (page.url?.startsWith('/')) {
      out.path = page.url.split(/[?#]/)[0]!;
    }
    const referrer = parseUrl(page.referrer);
    if (!referrer) {
      out.referrer_type = 'direct';
    } else if (url && referrer.hostname === url.hostname) {
      out.referrer_type = 'internal';
    } else {
      out.referrer = `${referrer.origin}${referrer.pathname}`;
      const source = this.source(referrer);
      out.referrer_name = source.name;
      out.referrer_type = source.type;
    }
    return out;
  }

  private place(ip: string): { country: string; region: string; city: string } {
    let place = this.places.get(ip);
    if (!place) {
      geo ??= require('geoip-lite') as typeof GeoIp;
      const found = ip ? geo.lookup(ip) : null;
      place = { country: found?.country ?? '', region: found?.region ?? '', city: found?.city ?? '' };
      this.places.set(ip, place);
    }
    return place;
  }

  private source(referrer: URL): { name: string; type: string } {
    const key = `${referrer.hostname}${referrer.pathname}`;
    let source = this.sources.get(key);
    if (!source) {
      Referer ??= require('@cgamesplay/referer-parser') as typeof RefererType;
      const parsed = new Referer(referrer.href);
      const host = referrer.hostname.replace(/^www\./, '');
      source = parsed.known && parsed.referer
        ? { name: parsed.referer, type: parsed.medium === 'unknown' ? 'referral' : parsed.medium }
        : { name: host, type: 'referral' };
      this.sources.set(key, source);
    }
    return source;
  }
}

function withoutEmpty(c: WebContext): Partial<WebContext> {
  const out: Partial<WebContext> = {};
  for (const [key, value] of Object.entries(c) as [keyof WebContext, string][]) if (value !== '') out[key] = value;
  return out;
}

function parseUrl(text: string | undefined): URL | null {
  if (!text || !/^https?:\/\//i.test(text)) return null;
  try {
    return new URL(text);
  } catch {
    return null;
  }
}
