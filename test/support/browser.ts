import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

/** Debian's chromium (`apt-get install chromium`; .ci/run installs it). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * A normal desktop Chrome's user agent: headless Chromium says "HeadlessChrome", which the bot
 * filter (isbot) files as a bot's.
 */
export const DESKTOP_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

export const LAPTOP = { width: 1366, height: 850 } as const;
export const PHONE = { width: 390, height: 844 } as const;

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

/** Headless Chromium; playwright keeps its own user-data directory and removes it on close. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A fresh context (its own session storage and cache) at a laptop's size, or a phone's. */
export function newContext(browser: Browser, size: 'laptop' | 'phone' = 'laptop'): Promise<BrowserContext> {
  const phone = size === 'phone';
  return browser.newContext({
    viewport: phone ? PHONE : LAPTOP,
    deviceScaleFactor: phone ? 2 : 1,
    isMobile: phone,
    hasTouch: phone,
    userAgent: phone
      ? 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36'
      : DESKTOP_UA,
    locale: 'en-US',
    timezoneId: 'UTC',
  });
}
