/**
 * The only error the wire/ parsers throw. It carries the status the server answers with; after
 * any ParseError the connection sends that response with `Connection: close` and stops reading
 * (RFC 9112 §2.2 ¶4: a recipient that cannot parse a message must not try to continue with it).
 */
export type ParseErrorCode =
  | 'bad-request-line'
  | 'bad-method'
  | 'bad-target'
  | 'bad-version'
  | 'unsupported-version'
  | 'request-line-too-long'
  | 'bad-status-line'
  | 'bad-field-name'
  | 'bad-field-value'
  | 'obs-fold'
  | 'bare-lf'
  | 'head-too-large'
  | 'too-many-fields'
  | 'bad-host'
  | 'bad-content-length'
  | 'bad-transfer-encoding'
  | 'unknown-transfer-coding'
  | 'length-and-chunked'
  | 'bad-chunk-size'
  | 'bad-chunk-framing'
  | 'chunk-extension-too-large'
  | 'bad-trailer'
  | 'trailer-too-large'
  | 'http2-preface';

export class ParseError extends Error {
  /** The response status the server sends: 400, 414, 431, 501 or 505. */
  readonly status: number;
  readonly code: ParseErrorCode;

  constructor(status: number, code: ParseErrorCode, message: string) {
    super(message);
    this.name = 'ParseError';
    this.status = status;
    this.code = code;
  }
}
