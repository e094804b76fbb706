/**
 * The byte relay behind a CONNECT tunnel (RFC 9110 §9.3.6) or an upgraded connection: two
 * streams, each one's bytes written to the other, with backpressure, until both directions end.
 *
 * Half-close is passed on: RFC 9110 §9.3.6 ¶9: "A tunnel is closed when a tunnel intermediary
 * detects that either side has closed its connection: the intermediary MUST attempt to send any
 * outstanding data that came from the closed side to the other side, close both connections,
 * and then discard any remaining data left undelivered." Many TLS clients end their writing
 * side and keep reading, so an end from one side ends the other side's writable half only and
 * the other direction runs on; the sockets close once both directions are done. An error or an
 * abrupt close on either side, or the idle timeout, destroys both.
 *
 * One timer per tunnel, not one per chunk: it fires at the idle deadline, and if bytes moved
 * since, it sets itself again for the time left.
 */
import type { Duplex } from 'node:stream';

export type RelayOptions = {
  /** Both sides are destroyed after this long without a byte in either direction. */
  readonly idleTimeoutMs: number;
};

/** Bytes carried: `up` from a to b (aHead included), `down` from b to a (bHead included). */
export type RelayResult = { up: number; down: number };

/**
 * Relays bytes both ways between `a` and `b` until both directions are done, then resolves
 * with the byte counts; it never rejects (a reset is how tunnels often end). `aHead` (bytes
 * already read from a) is written to b first, `bHead` to a. The relay owns both streams from
 * here: it resumes them, ends them and destroys them. Sockets should be made with
 * `allowHalfOpen: true`, or an end from the peer closes their writing side too early.
 */
export function relay(
  a: Duplex,
  aHead: Buffer,
  b: Duplex,
  bHead: Buffer,
  options: RelayOptions,
): Promise<RelayResult> {
  return new Promise((resolve) => {
    const result: RelayResult = { up: 0, down: 0 };
    let lastActivity = Date.now();
    let timer: NodeJS.Timeout | undefined;

    const destroyBoth = (): void => {
      a.destroy();
      b.destroy();
    };
    const onIdle = (): void => {
      const left = lastActivity + options.idleTimeoutMs - Date.now();
      if (left > 0) timer = setTimeout(onIdle, left);
      else destroyBoth();
    };
    const gone = new Set<Duplex>();
    const onClose = (side: Duplex, other: Duplex): void => {
      if (gone.has(side)) return;
      gone.add(side);
      // A side that closed without both halves done (a reset, a destroy) takes the other with it.
      if (!(side.readableEnded && side.writableFinished)) other.destroy();
      if (gone.size === 2) {
        clearTimeout(timer);
        resolve(result);
      }
    };
    const pump = (from: Duplex, to: Duplex, direction: 'up' | 'down'): void => {
      from.on('data', (chunk: Buffer) => {
        result[direction] += chunk.length;
        lastActivity = Date.now();
        if (!to.write(chunk)) from.pause();
      });
      to.on('drain', () => from.resume());
      // The peer ended its writing: end ours towards the other side, keep the other direction.
      from.on('end', () => to.end());
    };

    for (const side of [a, b]) {
      // Duplex reads allowHalfOpen when its readable side ends; net.Socket does the same.
      side.allowHalfOpen = true;
      side.on('error', destroyBoth);
    }
    a.on('close', () => onClose(a, b));
    b.on('close', () => onClose(b, a));
    if (aHead.length > 0) {
      result.up += aHead.length;
      b.write(aHead);
    }
    if (bHead.length > 0) {
      result.down += bHead.length;
      a.write(bHead);
    }
    pump(a, b, 'up');
    pump(b, a, 'down');
    a.resume();
    b.resume();
    timer = setTimeout(onIdle, options.idleTimeoutMs);
    // Either stream may already be gone (destroyed before the relay began, its 'close' perhaps
    // already emitted): count it closed after the pending 'close' events have had their turn.
    if (a.destroyed || b.destroyed) {
      destroyBoth();
      setImmediate(() => {
        onClose(a, b);
        onClose(b, a);
      });
    }
  });
}
