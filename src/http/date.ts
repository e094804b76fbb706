/**
 * HTTP-date (RFC 9110 §5.6.7): the `Date` header of every response, and the parser for
 * `If-Modified-Since`, `Last-Modified`, `Expires` and friends.
 *
 * Senders MUST generate only IMF-fixdate; recipients MUST accept the two obsolete formats too
 * (RFC 9110 §5.6.7 ¶7). The parser works by index over the string, no regex and no Date object,
 * because conditional requests parse a date on the hot path.
 */

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const DAY_NAMES_LONG = [
  'Sunday',
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
] as const;
const MONTH_NAMES = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
] as const;
const MS_PER_DAY = 86_400_000;

let cachedSecond = Number.NaN;
let cachedDate = '';

/**
 * The current time as an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`. The string is
 * rebuilt at most once per wall-clock second (cached on `Math.floor(Date.now() / 1000)`, no
 * timer), which RFC 9110 §6.6.1 allows: the Date field has one-second resolution.
 */
export function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== cachedSecond) {
    cachedDate = formatHttpDate(new Date(second * 1000));
    cachedSecond = second;
  }
  return cachedDate;
}

/**
 * Formats `d` as an IMF-fixdate (RFC 9110 §5.6.7), always in GMT, milliseconds dropped.
 * Throws RangeError for an invalid Date or a year outside 0000–9999 (the grammar has `4DIGIT`).
 */
export function formatHttpDate(d: Date): string {
  const year = d.getUTCFullYear();
  if (Number.isNaN(year) || year < 0 || year > 9999)
    throw new RangeError('date not representable as HTTP-date');
  return `${DAY_NAMES[d.getUTCDay()]}, ${pad2(d.getUTCDate())} ${MONTH_NAMES[d.getUTCMonth()]} ${String(year).padStart(4, '0')} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} GMT`;
}

/**
 * Parses an HTTP-date in any of the three formats of RFC 9110 §5.6.7 and returns milliseconds
 * since the epoch, or `undefined` if `s` is not exactly one of them (HTTP-date is case-sensitive
 * and has no optional whitespace). The day name must be a real one but is not checked against
 * the date. A leap second (`:60`) is accepted and rolls into the next minute.
 *
 * - IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
 * - rfc850-date: `Sunday, 06-Nov-94 08:49:37 GMT` — the two-digit year is read as the nearest
 *   year not more than 50 years in the future (RFC 9110 §5.6.7 ¶9)
 * - asctime-date: `Sun Nov  6 08:49:37 1994`
 */
export function parseHttpDate(s: string): number | undefined {
  if (s.length === 29) return parseImfFixdate(s);
  if (s.length === 24) return parseAsctime(s);
  return parseRfc850(s);
}

/** `Sun, 06 Nov 1994 08:49:37 GMT` */
function parseImfFixdate(s: string): number | undefined {
  if (indexOfName(DAY_NAMES, s, 0, 3) === undefined) return undefined;
  if (s.charCodeAt(3) !== 0x2c || s.charCodeAt(4) !== 0x20 || s.charCodeAt(7) !== 0x20) return undefined;
  if (s.charCodeAt(11) !== 0x20 || s.charCodeAt(16) !== 0x20 || !s.startsWith(' GMT', 25)) return undefined;
  const month = indexOfName(MONTH_NAMES, s, 8, 3);
  if (month === undefined) return undefined;
  return toEpochMs(digits(s, 12, 4), month, digits(s, 5, 2), s, 17);
}

/** `Sun Nov  6 08:49:37 1994` — the day is `2DIGIT / ( SP DIGIT )`. */
function parseAsctime(s: string): number | undefined {
  if (indexOfName(DAY_NAMES, s, 0, 3) === undefined) return undefined;
  if (s.charCodeAt(3) !== 0x20 || s.charCodeAt(7) !== 0x20) return undefined;
  if (s.charCodeAt(10) !== 0x20 || s.charCodeAt(19) !== 0x20) return undefined;
  const month = indexOfName(MONTH_NAMES, s, 4, 3);
  if (month === undefined) return undefined;
  const day = s.charCodeAt(8) === 0x20 ? digits(s, 9, 1) : digits(s, 8, 2);
  return toEpochMs(digits(s, 20, 4), month, day, s, 11);
}

/** `Sunday, 06-Nov-94 08:49:37 GMT` */
function parseRfc850(s: string): number | undefined {
  const comma = s.indexOf(',');
  if (comma < 6 || s.length !== comma + 24) return undefined;
  if (indexOfName(DAY_NAMES_LONG, s, 0, comma) === undefined) return undefined;
  const k = comma;
  if (s.charCodeAt(k + 1) !== 0x20 || s.charCodeAt(k + 4) !== 0x2d || s.charCodeAt(k + 8) !== 0x2d) {
    return undefined;
  }
  if (s.charCodeAt(k + 11) !== 0x20 || !s.startsWith(' GMT', k + 20)) return undefined;
  const month = indexOfName(MONTH_NAMES, s, k + 5, 3);
  const yy = digits(s, k + 9, 2);
  if (month === undefined || yy === undefined) return undefined;
  // RFC 9110 §5.6.7 ¶9: "MUST interpret a timestamp that appears to be more than 50 years in the
  // future as representing the most recent year in the past that had the same last two digits."
  const thisYear = new Date().getUTCFullYear();
  let year = thisYear - (thisYear % 100) + yy;
  if (year > thisYear + 50) year -= 100;
  return toEpochMs(year, month, digits(s, k + 2, 2), s, k + 12);
}

/** Validates the calendar date and `HH:MM:SS` at `s[t]`, then returns epoch milliseconds. */
function toEpochMs(
  year: number | undefined,
  month: number,
  day: number | undefined,
  s: string,
  t: number,
): number | undefined {
  if (year === undefined || day === undefined || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (s.charCodeAt(t + 2) !== 0x3a || s.charCodeAt(t + 5) !== 0x3a) return undefined;
  const hour = digits(s, t, 2);
  const minute = digits(s, t + 3, 2);
  const second = digits(s, t + 6, 2);
  if (hour === undefined || minute === undefined || second === undefined) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  return daysFromCivil(year, month + 1, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 1) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 3 || month === 5 || month === 8 || month === 10 ? 30 : 31;
}

/** The value of `count` ASCII digits at `s[i]`, or undefined if any is not a digit. */
function digits(s: string, i: number, count: number): number | undefined {
  let value = 0;
  for (let j = i; j < i + count; j++) {
    const c = s.charCodeAt(j) - 0x30;
    if (!(c >= 0 && c <= 9)) return undefined;
    value = value * 10 + c;
  }
  return value;
}

/** The index in `names` of the name spelled exactly by `s[i, i + len)`, or undefined. */
function indexOfName(names: readonly string[], s: string, i: number, len: number): number | undefined {
  for (let k = 0; k < names.length; k++) {
    const name = names[k]!;
    if (name.length === len && s.startsWith(name, i)) return k;
  }
  return undefined;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
