import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { channelUrlProblem, isPrivateAddress } from './channel-url.js';

describe('channel URLs', () => {
  describe('isPrivateAddress', () => {
    it('knows private, loopback, link-local and reserved IPv4 addresses', () => {
      for (const a of [
        '127.0.0.1',
        '127.255.255.254',
        '10.0.0.1',
        '10.255.255.255',
        '172.16.0.1',
        '172.20.10.5',
        '172.31.255.255',
        '192.168.0.1',
        '192.168.255.255',
        '169.254.169.254',
        '100.64.0.1',
        '100.127.255.255',
        '0.0.0.0',
        '224.0.0.1',
        '255.255.255.255',
      ]) {
        assert.equal(isPrivateAddress(a), true, a);
      }
    });

    it('knows public IPv4 addresses, including neighbours of the private ranges', () => {
      for (const a of ['8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.1', '192.169.0.1', '100.63.255.255', '100.128.0.1', '11.0.0.1', '169.253.0.1']) {
        assert.equal(isPrivateAddress(a), false, a);
      }
    });

    it('knows private IPv6 addresses, and IPv4 written as IPv6', () => {
      for (const a of ['::1', '::', 'fe80::1', 'FE80::abcd', 'fc00::1', 'fd12:3456:789a::1', 'ff02::1', '::ffff:10.0.0.1', '::FFFF:127.0.0.1', '::ffff:169.254.169.254', '::ffff:a00:1', '::ffff:7f00:1']) {
        assert.equal(isPrivateAddress(a), true, a);
      }
      for (const a of ['2606:4700:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8']) {
        assert.equal(isPrivateAddress(a), false, a);
      }
    });

    it('treats anything that is not an IP address as private', () => {
      assert.equal(isPrivateAddress('localhost'), true);
      assert.equal(isPrivateAddress(''), true);
      assert.equal(isPrivateAddress('999.1.1.1'), true);
    });
  });

  describe('channelUrlProblem', () => {
    it('accepts http and https URLs to a literal public IP', async () => {
      assert.equal(await channelUrlProblem('https://8.8.8.8/hook?token=abc', false), null);
      assert.equal(await channelUrlProblem('http://1.1.1.1:8080/x', false), null);
      assert.equal(await channelUrlProblem('https://[2606:4700:4700::1111]/hook', false), null);
    });

    it('refuses other schemes, even when private addresses are allowed', async () => {
      for (const allow of [false, true]) {
        const p = await channelUrlProblem('ftp://8.8.8.8/file', allow);
        assert.equal(p, 'must be an http or https URL, not ftp');
        assert.match((await channelUrlProblem('file:///etc/passwd', allow))!, /not file$/);
        assert.match((await channelUrlProblem('javascript:alert(1)', allow))!, /must be an http or https URL/);
      }
    });

    it('refuses what is not a URL, and overlong URLs', async () => {
      assert.equal(await channelUrlProblem('not a url', false), 'must be an http or https URL');
      assert.match((await channelUrlProblem(42, false))!, /must be an http or https URL/);
      assert.match((await channelUrlProblem(undefined, true))!, /must be an http or https URL/);
      assert.match((await channelUrlProblem(`https://8.8.8.8/${'a'.repeat(2000)}`, true))!, /at most 2000 characters/);
    });

    it('refuses URLs carrying a user name or password, even when private addresses are allowed', async () => {
      for (const allow of [false, true]) {
        assert.match((await channelUrlProblem('https://user:pass@8.8.8.8/hook', allow))!, /user name or password/);
        assert.match((await channelUrlProblem('https://user@8.8.8.8/hook', allow))!, /user name or password/);
        assert.match((await channelUrlProblem('https://:secret@8.8.8.8/hook', allow))!, /user name or password/);
      }
    });

    it('refuses literal private addresses, naming ALERTS_ALLOW_PRIVATE_URLS', async () => {
      for (const [url, address] of [
        ['http://127.0.0.1/hook', '127.0.0.1'],
        ['http://10.1.2.3:9000/hook', '10.1.2.3'],
        ['http://172.16.0.5/', '172.16.0.5'],
        ['http://192.168.1.1/', '192.168.1.1'],
        ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
        ['http://100.64.0.1/', '100.64.0.1'],
        ['http://0.0.0.0:8080/', '0.0.0.0'],
        ['http://[::1]:3000/', '::1'],
        ['http://[fe80::1]/', 'fe80::1'],
        ['http://[fc00::1]/', 'fc00::1'],
      ]) {
        const p = await channelUrlProblem(url, false);
        assert.ok(p, url);
        assert.match(p, /private, loopback or link-local/, url);
        assert.ok(p.includes(`(${address})`), `${url}: ${p}`);
        assert.match(p, /ALERTS_ALLOW_PRIVATE_URLS/, url);
      }
    });

    it('refuses private addresses in the forms a URL parser turns into one', async () => {
      for (const url of [
        'http://2130706433/', // 127.0.0.1 as a number
        'http://0x7f.0.0.1/',
        'http://127.1/',
        'http://[::ffff:127.0.0.1]/', // parsed to [::ffff:7f00:1]
        'http://[::ffff:169.254.169.254]/',
        'http://[::]/',
      ]) {
        assert.match((await channelUrlProblem(url, false)) ?? 'accepted', /ALERTS_ALLOW_PRIVATE_URLS/, url);
      }
    });

    it("refuses 'localhost', which resolves to a loopback address", async () => {
      const p = await channelUrlProblem('http://localhost:4000/hook', false);
      assert.ok(p);
      assert.match(p, /private, loopback or link-local address \((127\.\d+\.\d+\.\d+|::1)\)/);
      assert.match(p, /ALERTS_ALLOW_PRIVATE_URLS/);
    });

    it('accepts anything http(s) without credentials when private addresses are allowed', async () => {
      for (const url of ['http://127.0.0.1/hook', 'http://localhost:4000/hook', 'http://[::1]/', 'http://169.254.169.254/', 'https://10.0.0.1/x', 'http://2130706433/']) {
        assert.equal(await channelUrlProblem(url, true), null, url);
      }
    });
  });
});
