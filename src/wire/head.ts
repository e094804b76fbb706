/**
 * The parsed shapes of message heads and of body framing. Plain data, produced by wire/ parsers,
 * consumed by conn/ and later by the proxy's upstream client.
 */

/** How a message body is delimited, decided once per message (RFC 9112 §6.3). */
export type Framing =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  | { readonly kind: 'close' };

export const FRAMING_NONE: Framing = Object.freeze({ kind: 'none' });
export const FRAMING_CHUNKED: Framing = Object.freeze({ kind: 'chunked' });
export const FRAMING_CLOSE: Framing = Object.freeze({ kind: 'close' });

/** The four request-target forms of RFC 9112 §3.2. */
export type TargetForm = 'origin' | 'absolute' | 'authority' | 'asterisk';

/**
 * Facts the parser extracts from framing-relevant fields while it reads them, so nothing later
 * has to search the field list again.
 */
export class FieldFacts {
  /** Content-Length when present and valid; undefined when absent. */
  contentLength: number | undefined = undefined;
  /** Transfer codings in order, lower-cased, from every Transfer-Encoding line. */
  transferCodings: string[] | undefined = undefined;
  connectionClose = false;
  connectionKeepAlive = false;
  connectionUpgrade = false;
  /** Host field value; undefined when absent. */
  host: string | undefined = undefined;
  hostCount = 0;
  /** Expect field value, lower-cased; undefined when absent. */
  expect: string | undefined = undefined;
  hasUpgrade = false;
}

/** A parsed request head. Strings are copies (latin1), so the head outlives the read buffer. */
export class RequestHead {
  method = '';
  target = '';
  form: TargetForm = 'origin';
  /** '1.1' or '1.0' ('1.x' with x > 1 is treated as 1.1, RFC 9110 §2.5). */
  version = '1.1';
  /** Names and values as received: [name, value, name, value, …]. */
  rawHeaders: string[] = [];
  facts = new FieldFacts();
  framing: Framing = FRAMING_NONE;
  /** The authority the request is for: from an absolute-form target, else the Host field. */
  authority = '';
  /** Whether the connection may stay open after this exchange, from version and Connection. */
  keepAlive = true;
  /** `Expect: 100-continue` was sent. */
  expectContinue = false;
}

/** A parsed response head (used for upstream responses). */
export class ResponseHead {
  status = 0;
  reason = '';
  version = '1.1';
  rawHeaders: string[] = [];
  facts = new FieldFacts();
  keepAlive = true;
}
