/**
 * intercept(): runs `next` against a stand-in for the Response, so a middleware can look at the
 * head next produces and change it right before it is sent, and decide what becomes of the body —
 * send it as written, hold some of it first, replace it, or pipe it through a transform stream.
 * The headers, compress and error-pages middleware are all built on it.
 *
 * Life of an intercepted response:
 * 1. next sets status and fields as usual. They are stored in the real response (nothing is
 *    copied), which has not sent its head; writeHead() only records them, as in node:http.
 * 2. next's first write()/end() (or takeOver()) is the moment the head would go out. The chunk is
 *    held and `onHead` is called with the real response, still open to changes, and the bytes held.
 * 3. onHead answers with a BodyPlan:
 *    - `pass`: the head goes out now; this chunk and the rest go to the real response unchanged
 *      (end(chunk) stays end(chunk), so the engine can still send a Content-Length).
 *    - `hold`: keep collecting until `bytes` are held or next ends, then ask again (compress uses
 *      it to see whether a body reaches its minimum size).
 *    - `replace`: the real response ends now with this body; whatever next writes is dropped.
 *    - `transform`: next's bytes are written into the stream, the stream's output into the real
 *      response; its end ends the response.
 * 4. Backpressure holds end to end: with `pass`, write() returns what the real write() returns and
 *    drain()/'drain' are the real ones; with `transform`, write() returns the stream's write() and
 *    the stream is paused while the real response is backed up. Held bytes are bounded by the plan.
 *
 * Trailers, interim responses and takeOver() go straight to the real response (takeOver() runs
 * onHead first, for its field changes, and ignores the plan: a tunnel has no body to change).
 * If next fails before it ends the response, the wrapper lets go (held bytes dropped, the transform
 * destroyed) and the error goes on to the engine, which answers it on the untouched real response.
 */
import type { Duplex } from 'node:stream';
import type { Handler, Request, Response } from '../handler/types.js';
import { InterceptedResponse } from './intercepted-response.js';

/** What onHead sees: the real response (status, fields: still changeable) and the body so far. */
export type HeadView = {
  readonly res: Response;
  /** Body bytes next has written so far, held: none of them has been sent. */
  readonly bufferedBytes: number;
  /** next has ended the response: bufferedBytes is the whole body. */
  readonly ended: boolean;
};

/** What happens to the body; see the module comment. */
export type BodyPlan =
  | { readonly kind: 'pass' }
  | { readonly kind: 'hold'; readonly bytes: number }
  | { readonly kind: 'replace'; readonly body: Uint8Array | undefined }
  | {
      readonly kind: 'transform';
      /** Takes next's bytes, gives the bytes to send. Destroyed if the client goes away. */
      readonly stream: Duplex;
      /** Called after each write of next's bytes into the stream (e.g. to schedule a flush). */
      readonly afterWrite?: () => void;
    };

/** Called when the head would go out, possibly again after a `hold`. May throw: next's write() throws. */
export type OnHead = (head: HeadView) => BodyPlan;

/** The plan that changes nothing in the body. */
export const PASS: BodyPlan = Object.freeze({ kind: 'pass' });

/**
 * Runs `next(req, wrapped res)` with `onHead` deciding the head and body (see the module comment).
 * Resolves once next has returned and the real response has been ended (or the client is gone);
 * rejects with next's error — after letting a complete response finish — or with the transform's.
 */
export async function intercept(next: Handler, req: Request, res: Response, onHead: OnHead): Promise<void> {
  const wrapped = new InterceptedResponse(res, onHead);
  try {
    await next(req, wrapped);
  } catch (err) {
    // A complete response is let finish (the engine then only reports the error); else let go.
    if (wrapped.complete) await wrapped.finished().catch(() => undefined);
    else wrapped.abandon();
    throw err;
  }
  await wrapped.finished();
}
