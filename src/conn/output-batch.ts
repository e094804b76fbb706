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
  /** Views that could not be merged into one, oldest first; made only when a batch needs it. */
  private parts: Buffer[] | undefined = undefined;
  private tail: Buffer | undefined = undefined;
  private tailEnd = 0;
  private scheduled = false;

  constructor(
    private readonly socket: Socket,
    /** Told after each write whether the socket asked us to wait for 'drain'. */
    private readonly owner: { afterWrite(needDrain: boolean): void },
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
    // One microtask flushes every batch scheduled in this turn: no closure per connection.
    if (scheduledBatches.push(this) === 1) queueMicrotask(flushScheduled);
  }

  /** Writes everything collected, as one write or one writev. */
  flush(): void {
    this.scheduled = false;
    const socket = this.socket;
    const tail = this.tail;
    if (tail !== undefined) {
      const parts = this.parts;
      const last = this.tailView();
      this.tail = undefined;
      if (socket.destroyed) {
        // Nothing can be written any more; the bytes are dropped with the connection.
      } else if (parts === undefined || parts.length === 0) {
        socket.write(last);
      } else {
        socket.cork();
        for (let i = 0; i < parts.length; i++) socket.write(parts[i]!);
        socket.write(last);
        socket.uncork();
      }
      if (parts !== undefined) parts.length = 0;
      this.bytes = 0;
      this.owner.afterWrite(socket.writableNeedDrain);
    }
    // afterWrite() may have run a handler ('drain') that added bytes and asked to end: those
    // were scheduled for another flush, and ending now would drop them (a chunked body's last
    // chunk, say). The end then waits for that flush.
    if (this.endAfterFlush && this.tail === undefined && !socket.destroyed) socket.end();
  }

  private closeTail(): void {
    (this.parts ??= []).push(this.tailView());
    this.tail = undefined;
  }

  /** The merged tail region as one view (the tail itself when nothing was merged into it). */
  private tailView(): Buffer {
    const tail = this.tail!;
    const start = tail.byteOffset;
    return this.tailEnd === start + tail.length
      ? tail
      : Buffer.from(tail.buffer, start, this.tailEnd - start);
  }
}

const scheduledBatches: OutputBatch[] = [];

function flushScheduled(): void {
  // Batches scheduled while flushing (a write that completes synchronously can trigger more
  // output) join the list and are flushed in this same pass.
  for (let i = 0; i < scheduledBatches.length; i++) scheduledBatches[i]!.flush();
  scheduledBatches.length = 0;
}
