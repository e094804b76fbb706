/**
 * Buffer methods that Node has had since v0.x and still ships (v20–v24) but @types/node leaves out.
 * They skip the encoding dispatch of write()/toString(), which matters on the hot path.
 */
declare global {
  interface Buffer {
    latin1Write(s: string, offset?: number, length?: number): number;
    utf8Write(s: string, offset?: number, length?: number): number;
    latin1Slice(start?: number, end?: number): string;
  }
}

export {};
