/**
 * The `respond` handler: the same fixed answer to every request — status, body and fields from
 * config, all prepared once when built (the body encoded to bytes, its length known).
 *
 * A body without a configured Content-Type is sent as `text/plain; charset=utf-8`, so the
 * recipient neither sniffs it (RFC 9110 §8.3) nor guesses its charset. Content-Length is the
 * engine's to write (it knows the body). HEAD gets the fields and Content-Length a GET would,
 * without the body (RFC 9110 §9.3.2).
 */
import type { HandlerConfig } from '../config/model.js';
import type { Handler } from '../handler/types.js';
import { checkConfigField } from './fields.js';

export type RespondConfig = Extract<HandlerConfig, { readonly kind: 'respond' }>;

/**
 * Builds the `respond` handler. Throws when the status is not a final one (200–599), when a body
 * is given for a status that has none (204, 205, 304: RFC 9110 §15.3.5, §15.3.6, §15.4.5), or
 * when a field name or value is invalid or belongs to the engine (Content-Length, …).
 */
export function respond(config: RespondConfig): Handler {
  const status = config.status;
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new Error(`respond.status must be a final status (200–599), not ${status}`);
  }
  const body = Buffer.from(config.body, 'utf8');
  if (body.length > 0 && (status === 204 || status === 205 || status === 304)) {
    throw new Error(`respond: a ${status} response has no body`);
  }
  const fields: [string, string][] = [];
  for (const [name, value] of Object.entries(config.headers)) {
    checkConfigField('respond.headers', name, value);
    fields.push([name, value]);
  }
  if (body.length > 0 && !fields.some(([name]) => name.toLowerCase() === 'content-type')) {
    fields.push(['Content-Type', 'text/plain; charset=utf-8']);
  }
  const length = String(body.length);
  const hasLength = status !== 204 && status !== 205 && status !== 304;
  return (req, res) => {
    res.statusCode = status;
    for (const [name, value] of fields) res.setHeader(name, value);
    if (req.method === 'HEAD') {
      if (hasLength) res.setHeader('Content-Length', length);
      res.end();
    } else {
      res.end(body.length > 0 ? body : undefined);
    }
  };
}
