import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UserAgentParser } from './user-agent.parser.js';

describe('user agents', () => {
  const parser = new UserAgentParser();

  it('flags crawlers and headless browsers as bots, not people or server-side SDKs', () => {
    const bots = [
      'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
      'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36',
    ];
    const people = [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
      'node',
      'python-requests/2.31.0',
      '',
    ];
    for (const ua of bots) assert.equal(parser.parse(ua).isBot, true, ua);
    for (const ua of people) assert.equal(parser.parse(ua).isBot, false, ua);
  });

  it('reads browser, OS and device type', () => {
    const p = parser.parse('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1');
    assert.deepEqual([p.browser, p.os, p.deviceType], ['Mobile Safari', 'iOS', 'mobile']);
  });
});
