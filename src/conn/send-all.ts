/**
 * Response.send() for both protocols: each chunk written in turn, waiting out backpressure, then
 * end(). When the exchange goes away (client gone, stream reset) it stops reading the body and
 * destroys it if it can, so a file or upstream stream is not left open.
 */
import type { Readable } from 'node:stream';

type Writer = {
  write(chunk: string | Uint8Array): boolean;
  drain(): Promise<void>;
  end(): void;
};

export async function sendAll(
  res: Writer,
  body: Readable | AsyncIterable<Uint8Array | string>,
  gone: () => boolean,
): Promise<void> {
  try {
    for await (const chunk of body) {
      if (gone()) break;
      if (!res.write(chunk as Uint8Array | string)) await res.drain();
    }
  } finally {
    if (gone() && 'destroy' in body && typeof body.destroy === 'function') body.destroy();
  }
  if (!gone()) res.end();
}
