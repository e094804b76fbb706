/**
 * Sizes and durations as people write them in `berth.yaml`: `1g`, `512k`, `1.5m`; `30s`, `500ms`,
 * `7d`. Pure functions returning undefined for text they cannot read, so the schema decides what the
 * error says and where it points.
 */

/** Binary multiples, as `--max-upload` and `--cache-size` read them: `1k` is 1024 bytes. */
const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};

const MS_PER_UNIT: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * A size in bytes: a number of `bareUnit`s (bytes unless told, e.g. MiB for a cache size), or text
 * with a unit: `512k`, `1.5m`, `2g`, `10MB`, `1GiB` (all binary multiples). Undefined when the text
 * is not a size or the result is not a whole, safe number of bytes.
 */
export function parseSize(input: number | string, bareUnit = 1): number | undefined {
  let bytes: number;
  if (typeof input === 'number') {
    bytes = input * bareUnit;
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?\s*$/i.exec(input);
    if (m === null) return undefined;
    const unit = m[2]!.toLowerCase();
    // A bare number in text means the same as the number itself.
    bytes = Number(m[1]) * (unit === '' ? bareUnit : SIZE_UNITS[unit]!);
  }
  // Fractions of a unit (`1.5m`) round down to whole bytes.
  const whole = Math.floor(bytes);
  return Number.isSafeInteger(whole) && whole >= 0 ? whole : undefined;
}

/**
 * A duration in milliseconds: a number of seconds (`30`, `0.5`), or text with a unit: `500ms`, `30s`,
 * `5m`, `2h`, `7d`. Undefined for anything else, negative values included.
 */
export function parseDuration(input: number | string): number | undefined {
  let ms: number;
  if (typeof input === 'number') {
    ms = input * 1000;
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(input);
    if (m === null) return undefined;
    ms = Number(m[1]) * MS_PER_UNIT[m[2] ?? 's']!;
  }
  const rounded = Math.round(ms);
  return Number.isSafeInteger(rounded) && rounded >= 0 ? rounded : undefined;
}
