/**
 * Serialises a message head: a request-line or status-line, the fields, and the empty line
 * (RFC 9112 §2.1). Used where a head is built from data rather than by a handler — the proxy's
 * upstream requests, error responses — and validated on the way out, so a value taken from a
 * request can never split the head (CR/LF/NUL injection). The server's hot path writes response
 * heads straight into its slab (conn/response.ts) with the same checks done at setHeader().
 */
import { isToken, isValidFieldValue } from '../http/field-syntax.js';
import { reasonPhrase } from '../http/status.js';

/** Fields as [name, value] pairs, in order; repeated names stay separate lines. */
export type FieldList = readonly (readonly [string, string])[];

/**
 * The bytes of a request head: `METHOD target HTTP/1.1`, the fields, CRLF. Throws TypeError for a
 * method or field name that is not a token, a target with whitespace or controls, or a field
 * value with CR, LF, NUL or another control (RFC 9110 §5.5).
 */
export function writeRequestHead(method: string, target: string, fields: FieldList): Buffer {
  if (!isToken(method)) throw new TypeError(`invalid method "${method}"`);
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    // RFC 9112 §3.2: the target has no whitespace; the parser refuses controls and non-ASCII too.
    if (c <= 0x20 || c >= 0x7f) throw new TypeError('invalid character in the request target');
  }
  return finish(`${method} ${target} HTTP/1.1\r\n`, fields);
}

/**
 * The bytes of a response head: `HTTP/1.1 status reason`, the fields, CRLF. The reason defaults to
 * the registered phrase. Throws TypeError as writeRequestHead() does, and RangeError for a status
 * outside 100–999 (RFC 9110 §15: a three-digit code).
 */
export function writeResponseHead(status: number, fields: FieldList, reason = reasonPhrase(status)): Buffer {
  if (!Number.isInteger(status) || status < 100 || status > 999)
    throw new RangeError(`invalid status ${status}`);
  if (!isValidFieldValue(reason)) throw new TypeError('invalid character in the reason phrase');
  return finish(`HTTP/1.1 ${status} ${reason}\r\n`, fields);
}

function finish(startLine: string, fields: FieldList): Buffer {
  let head = startLine;
  for (const [name, value] of fields) {
    if (!isToken(name)) throw new TypeError(`invalid field name "${name}"`);
    if (!isValidFieldValue(value)) throw new TypeError(`invalid character in the value of "${name}"`);
    head += `${name}: ${value}\r\n`;
  }
  return Buffer.from(`${head}\r\n`, 'latin1');
}
