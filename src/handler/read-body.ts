/**
 * Reading a request body whole, the same way over HTTP/1.1, HTTP/2 and in any handler that builds
 * a Request of its own (the cache): within a byte limit (413 beyond it), as text, JSON (400 when
 * invalid) or an ArrayBuffer.
 */
import { HttpError } from '../handler/http-error.js';

/** Collects body into one Buffer; throws HttpError(413) once it passes limit bytes. */
export async function readWhole(body: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > limit) throw new HttpError(413, `request body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

/** Parses a body's text as JSON; throws HttpError(400) when it is not. */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
}

/** The bytes of buf as an ArrayBuffer of their own (a copy: buf may be a view of a larger one). */
export function toArrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}
