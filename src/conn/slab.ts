/**
 * A process-wide slab that response heads (and small bodies) are written into, so a response
 * costs no Buffer allocation of its own: each one is a subarray view of the slab, handed to the
 * socket without a copy. Regions are never reused; when the slab is full a new one is started and
 * the old one lives on only while the socket still holds views of it.
 *
 * Single-threaded by design: a region is begun, filled and finished within one synchronous run.
 */

const SLAB_BYTES = 128 * 1024;
/** Heads larger than this are built in a Buffer of their own. */
const MAX_REGION_BYTES = 32 * 1024;

let slab = Buffer.allocUnsafe(SLAB_BYTES);
let used = 0;

/** Builds one contiguous region; see begin(). */
class SlabWriter {
  buf: Buffer = slab;
  start = 0;
  pos = 0;

  /** Starts a region, guaranteeing `reserve` bytes of room. */
  begin(reserve: number): void {
    if (used + reserve > SLAB_BYTES) {
      slab = Buffer.allocUnsafe(SLAB_BYTES);
      used = 0;
    }
    this.buf = slab;
    this.start = used;
    this.pos = used;
  }

  /** Makes sure n more bytes fit, moving the region so far to a fresh buffer when they do not. */
  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const sofar = this.pos - this.start;
    const size = Math.max(SLAB_BYTES, (sofar + n) * 2);
    const next = sofar + n <= MAX_REGION_BYTES ? Buffer.allocUnsafe(SLAB_BYTES) : Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, this.start, this.pos);
    if (next.length === SLAB_BYTES) {
      slab = next;
      used = 0;
    }
    this.buf = next;
    this.start = 0;
    this.pos = sofar;
  }

  /** Appends a latin1 string (header names, values, status lines: one byte per char). */
  latin1(s: string): void {
    const n = s.length;
    this.room(n);
    this.pos =
      n <= SHORT_STRING ? copyShort(this.buf, this.pos, s) : this.pos + this.buf.latin1Write(s, this.pos);
  }

  /** Appends a non-negative integer in decimal, without making a string. */
  decimal(n: number): void {
    this.room(16);
    const buf = this.buf;
    if (n < 10) {
      buf[this.pos++] = 0x30 + n;
      return;
    }
    let digits = 0;
    for (let m = n; m >= 1; m = Math.floor(m / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    for (let m = n; m >= 1; m = Math.floor(m / 10)) buf[--p] = 0x30 + (m % 10);
  }

  /** Appends a string as UTF-8 (bodies); returns the bytes written. */
  utf8(s: string): number {
    this.room(s.length * 3);
    const n = this.buf.utf8Write(s, this.pos);
    this.pos += n;
    return n;
  }

  /** Appends bytes; returns how many. */
  bytes(b: Uint8Array): number {
    this.room(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
    return b.byteLength;
  }

  /** Appends `name: value\r\n`. The caller has validated name and value. */
  field(name: string, value: string): void {
    this.room(name.length + value.length + 4);
    const buf = this.buf;
    let p = copyShort(buf, this.pos, name);
    buf[p++] = 0x3a;
    buf[p++] = 0x20;
    p = value.length <= SHORT_STRING ? copyShort(buf, p, value) : p + buf.latin1Write(value, p);
    buf[p++] = 0x0d;
    buf[p++] = 0x0a;
    this.pos = p;
  }

  /** Ends the region and returns a view of it. The view stays valid: the bytes are never reused. */
  finish(): Buffer {
    const view = this.buf.subarray(this.start, this.pos);
    if (this.buf === slab) used = this.pos;
    return view;
  }
}

/**
 * Strings up to this length are copied with a loop: cheaper than the call into C++ that
 * latin1Write() costs, and most header names and values are this short.
 */
const SHORT_STRING = 48;

/** Copies a latin1 string into buf at p (room already made); returns the new position. */
function copyShort(buf: Buffer, p: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) buf[p + i] = s.charCodeAt(i);
  return p + n;
}

/** The one writer; regions never interleave because each is built in one synchronous run. */
export const slabWriter = new SlabWriter();
