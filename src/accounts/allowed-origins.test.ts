import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkOriginPattern, originAllowed } from './allowed-origins.js';

describe('allowed origins', () => {
  it('matches exact origins, hosts on any scheme and subdomain wildcards', () => {
    const patterns = ['https://app.example.com', 'docs.example.org', '*.shop.io', 'http://localhost:3000'];
    for (const ok of ['https://app.example.com', 'http://docs.example.org', 'https://a.shop.io', 'https://a.b.shop.io', 'http://localhost:3000']) {
      assert.equal(originAllowed(ok, patterns), true, ok);
    }
    for (const no of ['http://app.example.com', 'https://evil-app.example.com', 'https://shop.io', 'https://a.shop.io.evil.com', 'http://localhost:3001', 'null', '', undefined]) {
      assert.equal(originAllowed(no, patterns), false, String(no));
    }
  });

  it('refuses patterns that are not origins', () => {
    assert.equal(checkOriginPattern('*.example.com'), null);
    for (const bad of ['*', 'https://*', 'https://example.com/path', 'example.com:99999999', 42, '']) {
      assert.notEqual(checkOriginPattern(bad), null, String(bad));
    }
  });
});
