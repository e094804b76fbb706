/**
 * Adding one more line of a field to what a response already has (RFC 9110 §5.3: a recipient
 * may combine field lines of the same name; Set-Cookie must stay separate lines), shared by every
 * handler that passes fields on: the cache, the middleware.
 */
import type { HeaderValue } from './types.js';

/** The part of a Response that reads and sets fields. */
export type FieldSetter = {
  getHeader(name: string): HeaderValue | undefined;
  setHeader(name: string, value: HeaderValue): unknown;
};

/** Appends `value` as a further line of field `name`: set when absent, else kept as a list. */
export function appendField(target: FieldSetter, name: string, value: string): void {
  const existing = target.getHeader(name);
  if (existing === undefined) target.setHeader(name, value);
  else if (typeof existing === 'object') target.setHeader(name, [...existing, value]);
  else target.setHeader(name, [String(existing), value]);
}
