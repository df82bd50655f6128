import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type WebContext, WebContextResolver } from './web-context.js';

const EMPTY: WebContext = {
  origin: '', path: '', title: '', referrer: '', referrer_name: '', referrer_type: '', utm_source: '', utm_medium: '',
  utm_campaign: '', utm_term: '', utm_content: '', country: '', region: '', city: '',
};

describe('web context', () => {
  const resolver = new WebContextResolver();
  // Absent fields are empty columns.
  const web = { resolve: (...args: Parameters<WebContextResolver['resolve']>) => ({ ...EMPTY, ...resolver.resolve(...args) }) };
  const page = 'https://shop.example.com/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=spring&x=1';

  it('splits the page URL and reads its UTM parameters', () => {
    const c = web.resolve({ url: page, title: 'Pricing' }, '');
    assert.equal(c.origin, 'https://shop.example.com');
    assert.equal(c.path, '/pricing');
    assert.equal(c.title, 'Pricing');
    assert.deepEqual([c.utm_source, c.utm_medium, c.utm_campaign, c.utm_term, c.utm_content], ['newsletter', 'email', 'spring', '', '']);
    assert.equal(web.resolve({ url: '/docs/start?q=1' }, '').path, '/docs/start');
  });

  it('names and types the referrer from the referer database', () => {
    const of = (referrer?: string) => {
      const c = web.resolve({ url: page, referrer }, '');
      return [c.referrer_name, c.referrer_type, c.referrer];
    };
    assert.deepEqual(of('https://www.google.com/search?q=shoes'), ['Google', 'search', 'https://www.google.com/search']);
    assert.deepEqual(of('https://t.co/abc'), ['Twitter', 'social', 'https://t.co/abc']);
    assert.deepEqual(of('https://mail.google.com/mail/u/0/'), ['Gmail', 'email', 'https://mail.google.com/mail/u/0/']);
    assert.deepEqual(of('https://blog.somewhere.dev/post'), ['blog.somewhere.dev', 'referral', 'https://blog.somewhere.dev/post']);
    assert.deepEqual(of('https://shop.example.com/'), ['', 'internal', '']);
    assert.deepEqual(of(undefined), ['', 'direct', '']);
    assert.deepEqual(of(''), ['', 'direct', '']);
  });

  it('places an IP with the offline database, and leaves private addresses unplaced', () => {
    const gb = web.resolve(undefined, '81.2.69.142');
    assert.equal(gb.country, 'GB');
    assert.notEqual(gb.city, '');
    assert.equal(web.resolve(undefined, '2001:4860:4860::8888').country, 'US');
    for (const ip of ['127.0.0.1', '10.1.2.3', '::1', '']) assert.equal(web.resolve(undefined, ip).country, '', ip);
  });

  it('leaves events without a page unmarked as web traffic', () => {
    const c = web.resolve(undefined, '');
    assert.equal(c.referrer_type, '');
    assert.equal(c.path, '');
  });
});
