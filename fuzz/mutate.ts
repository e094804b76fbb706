/**
 * Input mutation for the fuzzer: libFuzzer's byte-level moves (flip, set, insert, erase, copy,
 * splice with another corpus entry) plus HTTP-aware ones — tokens from the HTTP/1.1 grammar,
 * whole-line edits (duplicate, drop, swap the CRLF-terminated lines) and number rewrites, since
 * Content-Length and chunk sizes steer most of the parser's branches.
 */
import type { Rng } from './rng.js';

/** Inputs never grow past this: the parsers are linear, long inputs only slow the search. */
export const MAX_INPUT_BYTES = 4096;

const TOKENS = [
  'GET ',
  'POST ',
  'HEAD ',
  'PUT ',
  'CONNECT ',
  'OPTIONS ',
  'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  ' HTTP/1.1\r\n',
  ' HTTP/1.0\r\n',
  'HTTP/1.1 ',
  'HTTP/1.0 ',
  'HTTP/2.0',
  'HTTP/1.9',
  '200 OK\r\n',
  '100 Continue\r\n',
  '101 Switching Protocols\r\n',
  '204 ',
  '304 ',
  '\r\n',
  '\r\n\r\n',
  '\n',
  '\r',
  '\n\r',
  ': ',
  ':',
  ' :',
  'Host: ',
  'Host: a.example\r\n',
  'Host: [::1]:8080\r\n',
  'host:',
  'Transfer-Encoding: chunked\r\n',
  'Transfer-Encoding: ',
  'transfer-encoding:',
  'chunked',
  'CHUNKED',
  'gzip, chunked',
  'chunked, chunked',
  'identity',
  'Content-Length: ',
  'Content-Length: 5\r\n',
  'content-length:',
  '5, 5',
  '1, 2',
  'Connection: close\r\n',
  'Connection: keep-alive, Upgrade\r\n',
  'Upgrade: websocket\r\n',
  'Expect: 100-continue\r\n',
  'Trailer: x\r\n',
  '0\r\n\r\n',
  '0\r\n',
  '5\r\nhello\r\n',
  '1\r\nx\r\n',
  ';ext',
  ';ext=val',
  ';q="a\\"b"',
  ' ; ',
  '=',
  '"',
  '\\',
  'ffffffff',
  'fffffffffffffff',
  '0000000000000000001',
  '9007199254740991',
  '9007199254740992',
  '\r\n ',
  '\r\n\t',
  '\x00',
  '\x7f',
  '\x80',
  '\xa0',
  '\xff',
  ' ',
  '\t',
  ',',
  ';',
  '/',
  '*',
  '#',
  '%',
  '%2F',
  '?q=1',
  'http://a.example/',
  'https://u@a.example:443/',
  'http://:80/',
  'a.example:443',
  '[::1]',
  'X-A: b\r\n',
].map((t) => Buffer.from(t, 'latin1'));

const INTERESTING_BYTES = [
  0x00, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x23, 0x2c, 0x2f, 0x30, 0x3a, 0x3b, 0x3d, 0x5c, 0x61, 0x66, 0x7f, 0x80,
  0xff,
];
const NUMBERS = [
  '0',
  '1',
  '5',
  '00',
  '10',
  'a',
  'F',
  '-1',
  '+1',
  '1.0',
  '0x10',
  '65536',
  '4294967296',
  '99999999999999999999',
];

/** A copy of `input` changed by one to four mutations; `other` is another corpus entry to splice with. */
export function mutate(input: Buffer, other: Buffer, rng: Rng): Buffer {
  let out: Buffer = Buffer.from(input);
  for (let k = 1 + rng.below(4); k > 0; k--) out = mutateOnce(out, other, rng);
  return out.length > MAX_INPUT_BYTES ? out.subarray(0, MAX_INPUT_BYTES) : out;
}

function mutateOnce(b: Buffer, other: Buffer, rng: Rng): Buffer {
  const n = b.length;
  const at = rng.below(n + 1);
  switch (rng.below(14)) {
    case 0: // flip a bit
      if (n > 0) b[rng.below(n)]! ^= 1 << rng.below(8);
      return b;
    case 1: // set a byte to an interesting or random value
      if (n > 0) b[rng.below(n)] = rng.oneIn(2) ? rng.pick(INTERESTING_BYTES) : rng.below(256);
      return b;
    case 2: // insert bytes
      return splice(
        b,
        at,
        0,
        Buffer.from(Array.from({ length: 1 + rng.below(4) }, () => rng.pick(INTERESTING_BYTES))),
      );
    case 3: // erase a run
      return splice(b, at, 1 + rng.below(Math.min(16, n - at + 1)), Buffer.alloc(0));
    case 4:
    case 5: // insert a grammar token
      return splice(b, at, 0, rng.pick(TOKENS));
    case 6: // overwrite with a grammar token
      return splice(b, at, rng.pick(TOKENS).length, rng.pick(TOKENS));
    case 7: {
      // copy a run of the input elsewhere
      const from = rng.below(n + 1);
      return splice(b, at, 0, Buffer.from(b.subarray(from, from + 1 + rng.below(32))));
    }
    case 8: {
      // crossover: this input's prefix, the other's suffix
      const cut = rng.below(other.length + 1);
      return Buffer.concat([b.subarray(0, at), other.subarray(cut)]);
    }
    case 9: // insert a piece of the other input
      return splice(b, at, 0, other.subarray(rng.below(other.length + 1)).subarray(0, 1 + rng.below(64)));
    case 10:
    case 11:
      return mutateLines(b, rng);
    case 12:
      return mutateNumber(b, rng);
    default: {
      // rewrite a line terminator: CRLF ↔ LF, CR, LFCR, CRCRLF
      const cr = b.indexOf('\r\n', rng.below(n + 1));
      if (cr === -1) return splice(b, at, 0, Buffer.from('\r\n'));
      return splice(b, cr, 2, Buffer.from(rng.pick(['\n', '\r', '\n\r', '\r\r\n', '\r\n\r\n', ''])));
    }
  }
}

function splice(b: Buffer, at: number, remove: number, insert: Buffer): Buffer {
  return Buffer.concat([b.subarray(0, at), insert, b.subarray(Math.min(b.length, at + remove))]);
}

/** Duplicates, drops or swaps whole CRLF-terminated lines. */
function mutateLines(b: Buffer, rng: Rng): Buffer {
  const lines: Buffer[] = [];
  let start = 0;
  for (;;) {
    const lf = b.indexOf(0x0a, start);
    if (lf === -1) break;
    lines.push(b.subarray(start, lf + 1));
    start = lf + 1;
  }
  lines.push(b.subarray(start));
  if (lines.length < 2) return b;
  const i = rng.below(lines.length);
  const j = rng.below(lines.length);
  switch (rng.below(3)) {
    case 0:
      lines.splice(j, 0, lines[i]!);
      break;
    case 1:
      lines.splice(i, 1);
      break;
    default:
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  }
  return Buffer.concat(lines);
}

/** Replaces a run of hex digits with another number. */
function mutateNumber(b: Buffer, rng: Rng): Buffer {
  const isDigit = (c: number | undefined) =>
    c !== undefined && ((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66));
  let i = rng.below(b.length + 1);
  while (i < b.length && !isDigit(b[i])) i++;
  if (i >= b.length) return b;
  let end = i;
  while (end < b.length && isDigit(b[end])) end++;
  const replacement = rng.oneIn(3) ? String(rng.next()) : rng.pick(NUMBERS);
  return splice(b, i, end - i, Buffer.from(replacement, 'latin1'));
}
