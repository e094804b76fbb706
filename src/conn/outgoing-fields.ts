/**
 * The checks every Response implementation (HTTP/1.1 and HTTP/2) applies to what a handler sets,
 * so a value taken from a request can never split a head or smuggle a field: one place, one rule.
 */
import type { HeaderValue } from '../handler/types.js';
import { isToken, isValidFieldValue } from '../http/field-syntax.js';

/** Throws a TypeError for a value that would split the head (CR, LF, NUL or other controls). */
export function checkFieldValue(name: string, value: string): void {
  if (!isValidFieldValue(value)) {
    throw new TypeError(`invalid character in the value of header "${name}"`);
  }
}

/** Throws a TypeError for a name that is not a token or any value checkFieldValue() refuses. */
export function checkField(name: string, value: HeaderValue): void {
  if (!isToken(name)) throw new TypeError(`invalid header name "${name}"`);
  if (typeof value === 'string') checkFieldValue(name, value);
  else if (typeof value !== 'number') for (const v of value) checkFieldValue(name, v);
}

/**
 * Sorts out writeHead(status, [message], [headers]) (node:http's overloads): checks the status
 * is three digits and the message has no control characters; returns the message (undefined when
 * none was given) and the fields to set.
 */
export function writeHeadArguments(
  statusCode: number,
  messageOrHeaders: string | Readonly<Record<string, HeaderValue>> | undefined,
  headers: Readonly<Record<string, HeaderValue>> | undefined,
): { message: string | undefined; fields: Readonly<Record<string, HeaderValue>> | undefined } {
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 999) {
    throw new RangeError(`invalid status code ${statusCode}`);
  }
  if (typeof messageOrHeaders !== 'string') return { message: undefined, fields: messageOrHeaders };
  checkFieldValue('status message', messageOrHeaders);
  return { message: messageOrHeaders, fields: headers };
}
