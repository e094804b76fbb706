/**
 * An error that carries an HTTP status. Handlers throw it to answer with that status; the engine
 * renders it (a short text body, the message only when `expose` is true, as for 4xx by default).
 */
export class HttpError extends Error {
  readonly status: number;
  /** Whether the message may be shown to the client: true for 4xx unless said otherwise. */
  readonly expose: boolean;
  /** Extra response fields, e.g. `Allow` for 405 or `Retry-After` for 429. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    message?: string,
    options: { expose?: boolean; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message ?? `HTTP ${status}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.expose = options.expose ?? (status >= 400 && status < 500);
    this.headers = options.headers ?? {};
  }
}
