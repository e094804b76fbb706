/** A short text answer from a proxy itself, in the engine's own error format. */
import type { Response } from '../handler/types.js';
import { reasonPhrase } from '../http/status.js';

export function answer(
  res: Response,
  status: number,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  res.statusCode = status;
  for (const name of Object.keys(headers)) res.setHeader(name, headers[name]!);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(`${status} ${reasonPhrase(status)}: ${message}\n`);
}
