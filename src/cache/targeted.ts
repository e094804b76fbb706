/**
 * Cache-Control fields aimed at gateway caches rather than at every cache: CDN-Cache-Control
 * (RFC 9213) and Surrogate-Control (W3C Edge Architecture Specification 1.0, §2-3). A gateway
 * cache that honours one obeys it *instead of* Cache-Control; these functions turn each into the
 * same ResponseDirectives record, or undefined when the field is absent, invalid or aims elsewhere
 * (then Cache-Control applies).
 */

import { parseDictionary } from 'structured-headers';
import { splitList, trimOws } from '../http/field-list.js';
import { isToken } from '../http/field-syntax.js';
import { DELTA_SECONDS_CAP, type ResponseDirectives, responseDirectives } from './directives.js';

const NUMERIC = ['max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error'] as const;

/**
 * CDN-Cache-Control's directives. RFC 9213 §2: the field is a Structured Field Dictionary
 * (RFC 8941) holding Cache-Control's directives, "... a cache that ... encounters a
 * CDN-Cache-Control field that cannot be parsed as a Dictionary MUST ignore the whole field" —
 * and likewise one whose delta-seconds directives are not non-negative Integers (§2.1: their
 * values "MUST be an Integer"). Undefined then, or when `value` is undefined.
 */
export function cdnDirectives(value: string | undefined): ResponseDirectives | undefined {
  if (value === undefined) return undefined;
  let dictionary: ReturnType<typeof parseDictionary>;
  try {
    dictionary = parseDictionary(value);
  } catch {
    return undefined;
  }
  if (dictionary.size === 0) return undefined;
  const parts: string[] = [];
  for (const [name, member] of dictionary) {
    const item = member[0];
    if ((NUMERIC as readonly string[]).includes(name)) {
      if (typeof item !== 'number' || !Number.isInteger(item) || item < 0) return undefined;
      parts.push(`${name}=${Math.min(item, DELTA_SECONDS_CAP)}`);
    } else if (item === true) {
      parts.push(name);
    } else if (typeof item === 'string' && (name === 'no-cache' || name === 'private')) {
      parts.push(`${name}="${item}"`);
    }
    // Other members (unknown extensions, odd types for flags) are ignored, as in Cache-Control.
  }
  return responseDirectives(parts.join(', '));
}

/**
 * Surrogate-Control's directives for the surrogate named `token` (Edge Architecture §3): a list
 * of `directive[;device-token]`. Directives targeted at `token` win; without any, the untargeted
 * ones apply; those for other devices never do. Understood: `no-store`, `max-age=N[+M]` (fresh
 * N seconds, then usable stale for M more when the origin fails: stale-if-error) and `no-cache`.
 * Names are case-insensitive; no whitespace around `=`. Undefined when nothing applies.
 */
export function surrogateDirectives(
  value: string | undefined,
  token: string,
): ResponseDirectives | undefined {
  if (value === undefined) return undefined;
  const mine: string[] = [];
  const everyone: string[] = [];
  for (const element of splitList(value)) {
    const semicolon = element.indexOf(';');
    const directive = trimOws(semicolon < 0 ? element : element.slice(0, semicolon));
    const target = semicolon < 0 ? undefined : trimOws(element.slice(semicolon + 1));
    const translated = translate(directive);
    if (translated === undefined) continue;
    if (target === undefined) everyone.push(...translated);
    else if (target === token) mine.push(...translated);
  }
  const applied = mine.length > 0 ? mine : everyone;
  return applied.length === 0 ? undefined : responseDirectives(applied.join(', '));
}

/** One Surrogate-Control directive as Cache-Control directives, or undefined if not understood. */
function translate(directive: string): string[] | undefined {
  const eq = directive.indexOf('=');
  const name = (eq < 0 ? directive : directive.slice(0, eq)).toLowerCase();
  if (!isToken(name)) return undefined;
  if (eq < 0) return name === 'no-store' || name === 'no-cache' ? [name] : undefined;
  if (name !== 'max-age') return undefined;
  const [fresh, stale] = directive.slice(eq + 1).split('+');
  if (!isDigits(fresh) || (stale !== undefined && !isDigits(stale))) return undefined;
  return stale === undefined ? [`max-age=${fresh}`] : [`max-age=${fresh}`, `stale-if-error=${stale}`];
}

function isDigits(s: string | undefined): s is string {
  return s !== undefined && s.length > 0 && /^[0-9]+$/.test(s);
}
