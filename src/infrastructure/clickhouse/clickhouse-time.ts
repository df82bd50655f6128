let cachedSecond = Number.NaN;
let cachedPrefix = '';

/**
 * ClickHouse DateTime64(3) text in UTC: 'YYYY-MM-DD hh:mm:ss.sss'. Events mostly carry the
 * current time, so the formatted second is cached and only the milliseconds are appended.
 */
export function toClickHouseTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    const iso = new Date(second * 1000).toISOString();
    cachedPrefix = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.`;
    cachedSecond = second;
  }
  const millis = ms - second * 1000;
  return cachedPrefix + (millis < 10 ? `00${millis}` : millis < 100 ? `0${millis}` : String(millis));
}
