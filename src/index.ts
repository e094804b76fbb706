/**
 * Berth's library entry point: the server, the handler contracts, and adapters.
 * See README.md for the API; names follow node:http where they overlap.
 */

export { type FetchAdapterOptions, type FetchHandler, toHandler } from './adapters/fetch.js';
export type { ServerOptions } from './conn/config.js';
export { ListenError } from './conn/listen-errors.js';
export { createServer, type ListenOptions, Server, type ServerAddress } from './conn/server.js';
export { HttpError } from './handler/http-error.js';
export type {
  CookieOptions,
  Handler,
  HeaderValue,
  IncomingHeaders,
  Request,
  Response,
} from './handler/types.js';
export type { Limits } from './wire/limits.js';
export { ParseError } from './wire/parse-error.js';
