/**
 * The `headers` middleware: response fields set, added or removed by config, applied to the
 * response next produces at the moment its head goes out (through intercept()), so whatever next
 * set, replaced or wrote first, the configured fields win:
 *
 * 1. `remove` deletes next's fields of those names;
 * 2. `set` replaces next's value (or adds the field);
 * 3. `add` appends a field line after next's (RFC 9110 §5.3: a repeated field is a list).
 *
 * So `remove: [X]` with `add: {X: v}` leaves exactly `X: v`. Names are case-insensitive
 * (RFC 9110 §5.1). Values are checked once, when the middleware is built: no CR/LF or other
 * controls (RFC 9110 §5.5), names are tokens, and the fields the engine frames the message with
 * (Content-Length, Transfer-Encoding, Connection, …) are refused, as are Date and Server removals
 * the engine would undo.
 *
 * Errors thrown by next as HttpError get the same edits on their fields (see fields.ts), so a 404
 * from the static server carries the configured security headers too. A plain Error is left to the
 * engine's bare 500 (put the error-pages middleware inside this one to dress those).
 */
import type { MiddlewareConfig } from '../config/model.js';
import { appendField, checkConfigField, errorWithFields, type FieldTarget } from './fields.js';
import { intercept, type OnHead, PASS } from './intercept.js';
import type { Middleware } from './types.js';

export type HeadersConfig = Extract<MiddlewareConfig, { readonly kind: 'headers' }>;

/**
 * Builds the `headers` middleware from its config. Throws an Error naming the field when a name
 * or value is invalid or belongs to the engine.
 */
export function headers(config: HeadersConfig): Middleware {
  const remove = config.remove.map((name) => {
    checkConfigField('headers.remove', name);
    const lower = name.toLowerCase();
    if (lower === 'date' || lower === 'server') {
      throw new Error(`headers.remove: ${name} is written by the server itself and cannot be removed`);
    }
    return lower;
  });
  const set = Object.entries(config.set);
  for (const [name, value] of set) checkConfigField('headers.set', name, value);
  const add = Object.entries(config.add);
  for (const [name, value] of add) checkConfigField('headers.add', name, value);
  if (remove.length === 0 && set.length === 0 && add.length === 0) return (next) => next;

  const apply = (target: FieldTarget): void => {
    for (const name of remove) target.removeHeader(name);
    for (const [name, value] of set) target.setHeader(name, value);
    for (const [name, value] of add) appendField(target, name, value);
  };
  const onHead: OnHead = (head) => {
    apply(head.res);
    return PASS;
  };
  return (next) => async (req, res) => {
    try {
      await intercept(next, req, res, onHead);
    } catch (err) {
      throw errorWithFields(err, res, apply);
    }
  };
}
