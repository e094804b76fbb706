/**
 * OutputBatch: collects the bytes a connection produces during one synchronous run and writes
 * them to the socket at once. Views that continue the previous one in memory (consecutive slab
 * regions: the heads and small bodies of pipelined responses) are merged, so a batch of small
 * responses usually leaves as one Buffer in one write; otherwise cork/uncork makes it one writev.
 */
import type { Socket } from 'node:net';

export class OutputBatch {
  /** Bytes added and not yet written. */
  bytes = 0;
  /** While true (the connection is parsing a read), flushes wait for an explicit flush(). */
  holding = false;
  /** End the socket after the next flush. */
  endAfterFlush = false;
  private readonly parts: Buffer[] = [];
  private tail: Buffer | undefined = undefined;
  private tailEnd = 0;
  private scheduled = false;
  private readonly flushBound = (): void => this.flush();

  constructor(
    private readonly socket: Socket,
    /** Called after each write with whether the socket asked us to wait for 'drain'. */
    private readonly afterWrite: (needDrain: boolean) => void,
  ) {}

  get empty(): boolean {
    return this.tail === undefined;
  }

  /** Adds bytes (the batch keeps the reference; the caller must not change them). */
  add(bytes: Buffer): void {
    const tail = this.tail;
    if (tail !== undefined && bytes.buffer === tail.buffer && bytes.byteOffset === this.tailEnd) {
      this.tailEnd += bytes.length;
    } else {
      if (tail !== undefined) this.closeTail();
      this.tail = bytes;
      this.tailEnd = bytes.byteOffset + bytes.length;
    }
    this.bytes += bytes.length;
    this.flushSoon();
  }

  /** Schedules a flush at the end of the current microtask unless the connection is holding. */
  flushSoon(): void {
    if (this.holding || this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.flushBound);
  }

  /** Writes everything collected, as one write or one writev. */
  flush(): void {
    this.scheduled = false;
    const socket = this.socket;
    if (this.tail !== undefined) {
      this.closeTail();
      const parts = this.parts;
      if (!socket.destroyed) {
        if (parts.length === 1) {
          socket.write(parts[0]!);
        } else {
          socket.cork();
          for (let i = 0; i < parts.length; i++) socket.write(parts[i]!);
          socket.uncork();
        }
      }
      parts.length = 0;
      this.bytes = 0;
      this.afterWrite(socket.writableNeedDrain);
    }
    if (this.endAfterFlush && !socket.destroyed) socket.end();
  }

  private closeTail(): void {
    const tail = this.tail!;
    const start = tail.byteOffset;
    const whole = this.tailEnd === start + tail.length;
    this.parts.push(whole ? tail : Buffer.from(tail.buffer, start, this.tailEnd - start));
    this.tail = undefined;
  }
}
