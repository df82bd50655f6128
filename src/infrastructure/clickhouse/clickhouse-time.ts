/** Two formatted seconds: an event's own time and its receipt time alternate row by row. */
const seconds = [Number.NaN, Number.NaN];
const prefixes = ['', ''];
let older = 0;

/**
 * ClickHouse DateTime64(3) text in UTC: 'YYYY-MM-DD hh:mm:ss.sss'. Events mostly carry the
 * current time (or a client's time close to it), so the formatted second is cached and only the
 * milliseconds are appended. Two slots, because a row formats both its timestamp and its
 * received_at: with one slot, a client's timestamp a second or more old evicted the receipt
 * time on every row.
 */
export function toClickHouseTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  let slot = seconds[0] === second ? 0 : seconds[1] === second ? 1 : -1;
  if (slot === -1) {
    slot = older;
    const iso = new Date(second * 1000).toISOString();
    prefixes[slot] = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.`;
    seconds[slot] = second;
  }
  older = 1 - slot;
  const cachedPrefix = prefixes[slot]!;
  const millis = ms - second * 1000;
  return cachedPrefix + (millis < 10 ? `00${millis}` : millis < 100 ? `0${millis}` : String(millis));
}
