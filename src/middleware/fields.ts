/**
 * Field helpers the middleware share: Vary merging (compress and cors both vary the response),
 * appending a value to a field, checking field names and values taken from config at build time,
 * and carrying fields onto an HttpError that next throws.
 *
 * Why errors need care: a handler that throws an HttpError (static files throw 404, 403, 405) is
 * answered by the engine with a fresh response whose only fields are the error's own `headers`
 * (conn/ `sendError`). Fields a middleware put on `res` are gone by then, so a middleware that must
 * mark error responses too (CORS, the `headers` middleware) rethrows the error with its fields
 * added — the same pattern static/serve.ts uses for `Allow`.
 */

import { appendField } from '../handler/append-field.js';
import { HttpError } from '../handler/http-error.js';
import type { HeaderValue, Response } from '../handler/types.js';
import { splitList } from '../http/field-list.js';
import { isToken, isValidFieldValue } from '../http/field-syntax.js';

/** The part of a Response that edits fields: a real one, or an error's field record. */
export { appendField };

export interface FieldTarget {
  getHeader(name: string): HeaderValue | undefined;
  setHeader(name: string, value: HeaderValue): unknown;
  removeHeader(name: string): void;
}

/**
 * Fields the engine writes itself from the framing it chooses (RFC 9112 §6.1, §6.3) and the
 * connection options (RFC 9110 §7.6.1): config may not set, add or remove them.
 */
const ENGINE_FIELDS: ReadonlySet<string> = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
]);

/**
 * Throws an Error naming `where` unless `name` is a token (RFC 9110 §5.1) that the engine does not
 * own, and `value` (when given) is a valid field value: no CR, LF, NUL or other control
 * (RFC 9110 §5.5), so nothing from config can split a head.
 */
export function checkConfigField(where: string, name: string, value?: string): void {
  if (!isToken(name)) throw new Error(`${where}: "${name}" is not a valid field name`);
  if (ENGINE_FIELDS.has(name.toLowerCase())) {
    throw new Error(`${where}: ${name} is written by the server itself and cannot be configured`);
  }
  if (value !== undefined && !isValidFieldValue(value)) {
    throw new Error(`${where}: the value of ${name} holds a control character (CR, LF, …)`);
  }
}

/**
 * Lists `name` (a request field name) in Vary (RFC 9110 §12.5.5), unless it is there already
 * (case-insensitively) or Vary is `*`, which already says everything varies.
 */
export function appendVary(target: FieldTarget, name: string): void {
  const existing = target.getHeader('vary');
  if (existing === undefined) {
    target.setHeader('Vary', name);
    return;
  }
  const lines = typeof existing === 'object' ? existing : [String(existing)];
  const lower = name.toLowerCase();
  for (const line of lines) {
    for (const member of splitList(line)) {
      if (member === '*' || member.toLowerCase() === lower) return;
    }
  }
  target.setHeader('Vary', [...lines, name]);
}

/**
 * When `err` is an HttpError and `res` has sent nothing yet, returns an equal HttpError whose
 * fields went through `edit` (the original as `cause`); anything else is returned as it is.
 * A repeated field is joined with ", " (RFC 9110 §5.3), as an error carries one value per name.
 */
export function errorWithFields(err: unknown, res: Response, edit: (fields: FieldTarget) => void): unknown {
  if (!(err instanceof HttpError) || res.headersSent) return err;
  const fields = new RecordFields(err.headers);
  edit(fields);
  return new HttpError(err.status, err.message, {
    expose: err.expose,
    headers: fields.toRecord(),
    cause: err,
  });
}

/** A FieldTarget over a plain record, names compared case-insensitively. */
class RecordFields implements FieldTarget {
  private readonly fields = new Map<string, { name: string; value: HeaderValue }>();

  constructor(record: Readonly<Record<string, string>>) {
    for (const name of Object.keys(record))
      this.fields.set(name.toLowerCase(), { name, value: record[name]! });
  }

  getHeader(name: string): HeaderValue | undefined {
    return this.fields.get(name.toLowerCase())?.value;
  }

  setHeader(name: string, value: HeaderValue): this {
    this.fields.set(name.toLowerCase(), { name, value });
    return this;
  }

  removeHeader(name: string): void {
    this.fields.delete(name.toLowerCase());
  }

  toRecord(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const { name, value } of this.fields.values()) {
      out[name] = typeof value === 'object' ? value.join(', ') : String(value);
    }
    return out;
  }
}
