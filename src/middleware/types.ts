/**
 * What a middleware is: a function from the handler it wraps to the handler that wraps it. Each
 * one is built once from its config (validated then, so a bad value stops the server at start,
 * never a request) and the result is called per request.
 */
import type { Handler } from '../handler/types.js';

/** Wraps `next`; called once when the chain is built, never per request. */
export type Middleware = (next: Handler) => Handler;
