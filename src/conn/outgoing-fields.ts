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
 * Field names setHeader() has accepted (either protocol's) (tokens, so not checked again), each with its lower-case
 * key; at most MAX_FIELD_KEYS of them. Handlers pass the same few literal names ('ETag',
 * 'Content-Type') on every response: a remembered key is one string whose hash is already known,
 * where toLowerCase() makes a fresh string to hash on every call.
 */
const fieldKeys = new Map<string, string>();
const MAX_FIELD_KEYS = 512;

/** The lower-case key for a field name (valid or not: getHeader() takes any string). */
export function fieldKey(name: string): string {
  return fieldKeys.get(name) ?? name.toLowerCase();
}

/** Checks a field as setHeader() must (a remembered name is a token already) and returns its key. */
export function checkedFieldKey(name: string, value: HeaderValue): string {
  const key = fieldKeys.get(name);
  if (key === undefined) {
    checkField(name, value);
    const lower = name.toLowerCase();
    if (fieldKeys.size < MAX_FIELD_KEYS) fieldKeys.set(name, lower);
    return lower;
  }
  if (typeof value === 'string') checkFieldValue(name, value);
  else checkField(name, value);
  return key;
}

/** Throws a RangeError for a status that is not three digits (RFC 9112 §4). */
export function checkStatus(status: number): void {
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new RangeError(`invalid status code ${status}`);
  }
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
  checkStatus(statusCode);
  if (typeof messageOrHeaders !== 'string') return { message: undefined, fields: messageOrHeaders };
  checkFieldValue('status message', messageOrHeaders);
  return { message: messageOrHeaders, fields: headers };
}
