import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChunkedDecoder, type ChunkedDecoderLimits } from './chunked-decoder.js';
import { ParseError } from './parse-error.js';

const LIMITS: ChunkedDecoderLimits = {
  maxChunkExtensionBytes: 4096,
  maxTrailerBytes: 16384,
  maxTrailerFields: 100,
};
/** Junk around the input, so a decoder that reads outside [start, end) shows it. */
const PAD = Buffer.from('Z\n\r');

type Outcome =
  | { kind: 'ok'; data: string; trailers: string[]; consumed: number; done: boolean }
  | { kind: 'error'; status: number; code: string };

/** Feeds `input` to a fresh decoder in the pieces cut at `cuts`, and reports what came out. */
function feed(input: Buffer, cuts: readonly number[], limits: ChunkedDecoderLimits): Outcome {
  const decoder = new ChunkedDecoder(limits);
  const padded = Buffer.concat([PAD, input, PAD]);
  const data: Buffer[] = [];
  const onData = (view: Buffer) => {
    assert.equal(view.buffer, padded.buffer, 'data is a view of the input');
    data.push(Buffer.from(view));
  };
  const bounds = [0, ...cuts, input.length];
  let consumed = 0;
  try {
    for (let k = 0; k + 1 < bounds.length; k++) {
      const a = bounds[k]!;
      const b = bounds[k + 1]!;
      const wasDone = decoder.done;
      const n = decoder.push(padded, PAD.length + a, PAD.length + b, onData);
      if (wasDone) assert.equal(n, 0, 'consumes nothing once done');
      else if (!decoder.done) assert.equal(n, b - a, 'consumes every byte until done');
      consumed += n;
    }
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    return { kind: 'error', status: err.status, code: err.code };
  }
  const trailers = [...decoder.trailers];
  return { kind: 'ok', data: Buffer.concat(data).toString('latin1'), trailers, consumed, done: decoder.done };
}

/** Decodes `input` whole, byte by byte and split at every offset; asserts all agree; returns the outcome. */
function decode(input: string, limits: ChunkedDecoderLimits = LIMITS): Outcome {
  const buf = Buffer.from(input, 'latin1');
  const whole = feed(buf, [], limits);
  const bytewise = Array.from({ length: Math.max(0, buf.length - 1) }, (_, i) => i + 1);
  assert.deepEqual(feed(buf, bytewise, limits), whole, `byte by byte: ${JSON.stringify(input)}`);
  for (let k = 0; k <= buf.length; k++) {
    assert.deepEqual(feed(buf, [k], limits), whole, `split at ${k}: ${JSON.stringify(input)}`);
  }
  return whole;
}

function ok(data: string, consumed: number, trailers: string[] = []): Outcome {
  return { kind: 'ok', data, trailers, consumed, done: true };
}

function fails(code: string): Outcome {
  return { kind: 'error', status: 400, code };
}

test('ChunkedDecoder decodes chunks and stops after the final CRLF', () => {
  const body = '5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n';
  assert.deepEqual(decode(body), ok('hello world', body.length));
});

test('ChunkedDecoder decodes an empty body', () => {
  assert.deepEqual(decode('0\r\n\r\n'), ok('', 5));
});

test('ChunkedDecoder leaves a pipelined next request unconsumed', () => {
  const body = '3\r\nabc\r\n0\r\n\r\n';
  assert.deepEqual(decode(`${body}GET / HTTP/1.1\r\n\r\n`), ok('abc', body.length));
  assert.deepEqual(decode(`${body}\n`), ok('abc', body.length));
});

test('ChunkedDecoder reads hex sizes in either case and with leading zeros', () => {
  const data = '0123456789abcdef0123456789';
  const body = `A\r\n${data.slice(0, 10)}\r\n00010\r\n${data.slice(10)}\r\n000\r\n\r\n`;
  assert.deepEqual(decode(body), ok(data, body.length));
  const padded = '0000000000000001\r\nx\r\n0\r\n\r\n';
  assert.deepEqual(decode(padded), ok('x', padded.length));
});

test('ChunkedDecoder treats CR and LF inside chunk data as data', () => {
  const body = '6\r\n\r\n\n\r0\n\r\n0\r\n\r\n';
  assert.deepEqual(decode(body), ok('\r\n\n\r0\n', body.length));
});

test('ChunkedDecoder reports an unfinished body as not done, every byte consumed', () => {
  for (const partial of [
    '',
    '5',
    '5\r\nhel',
    '5\r\nhello\r',
    '5\r\nhello\r\n0\r\n',
    '0\r\nX: 1\r\n',
    '0\r\n\r',
  ]) {
    const outcome = decode(partial);
    assert.equal(outcome.kind, 'ok');
    assert.equal(outcome.kind === 'ok' && outcome.done, false, partial);
    assert.equal(outcome.kind === 'ok' && outcome.consumed, partial.length, partial);
  }
});

test('ChunkedDecoder rejects a chunk-size that is not 1*HEXDIG', () => {
  for (const size of ['', ' 5', '+5', '-5', '0x5', '5_0', 'g', '5 5', '5 ', '5\t', '5 x', '\t5']) {
    assert.deepEqual(decode(`${size}\r\nhello\r\n0\r\n\r\n`), fails('bad-chunk-size'), JSON.stringify(size));
  }
});

test('ChunkedDecoder rejects a chunk-size beyond Number.MAX_SAFE_INTEGER', () => {
  assert.deepEqual(decode('20000000000000\r\n'), fails('bad-chunk-size'));
  assert.deepEqual(decode('ffffffffffffffffffffffff\r\n'), fails('bad-chunk-size'));
  const max = decode('1fffffffffffff\r\nabc');
  assert.deepEqual(max, { kind: 'ok', data: 'abc', trailers: [], consumed: 19, done: false });
});

test('ChunkedDecoder rejects more than 16 hex digits even for a small size', () => {
  assert.deepEqual(decode('00000000000000001\r\nx\r\n0\r\n\r\n'), fails('bad-chunk-size'));
});

test('ChunkedDecoder accepts and skips chunk extensions with BWS around ";" and "="', () => {
  for (const ext of [
    ';a',
    ';a=b',
    ';a=b;c;d=e',
    ' ;a',
    '\t; a = b ;\tc',
    ';a="quoted value"',
    ';a=""',
    ';a="with \\" escape \\\\ and obs-text \xe9"',
    ';a = "x" ; b',
    ";!#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~",
  ]) {
    const body = `5${ext}\r\nhello\r\n0${ext}\r\n\r\n`;
    assert.deepEqual(decode(body), ok('hello', body.length), JSON.stringify(ext));
  }
});

test('ChunkedDecoder rejects malformed chunk extensions as bad-chunk-framing', () => {
  for (const ext of [
    ';',
    ';;a',
    ';=b',
    ';a=',
    ';a b',
    ';a ',
    ';a= ',
    ';a=b ',
    ';a="x" ',
    ';a=b c',
    ';a="x"y',
    ';a="unterminated',
    ';a="ctl\x01"',
    ';a="\\\x00"',
    ';a=b"',
    ';a@b',
    ';a=b=c',
  ]) {
    assert.deepEqual(
      decode(`5${ext}\r\nhello\r\n0\r\n\r\n`),
      fails('bad-chunk-framing'),
      JSON.stringify(ext),
    );
  }
});

test('ChunkedDecoder bounds chunk extension bytes per message', () => {
  const limits = { ...LIMITS, maxChunkExtensionBytes: 10 };
  const exactly = `5;${'a'.repeat(9)}\r\nhello\r\n0\r\n\r\n`;
  assert.deepEqual(decode(exactly, limits), ok('hello', exactly.length));
  assert.deepEqual(
    decode(`5;${'a'.repeat(10)}\r\nhello\r\n0\r\n\r\n`, limits),
    fails('chunk-extension-too-large'),
  );
  assert.deepEqual(
    decode('1;abcde\r\nx\r\n1;fghij\r\ny\r\n0\r\n\r\n', limits),
    fails('chunk-extension-too-large'),
  );
  assert.deepEqual(decode('1 ; a = "bc"\r\nx\r\n0\r\n\r\n', limits), fails('chunk-extension-too-large'));
  const none = { ...LIMITS, maxChunkExtensionBytes: 0 };
  assert.deepEqual(decode('1;a\r\nx\r\n0\r\n\r\n', none), fails('chunk-extension-too-large'));
  const plain = '1\r\nx\r\n0\r\n\r\n';
  assert.deepEqual(decode(plain, none), ok('x', plain.length));
});

test('ChunkedDecoder requires exactly CRLF after chunk data', () => {
  for (const body of [
    '5\r\nhelloX\r\n0\r\n\r\n',
    '5\r\nhello0\r\n\r\n',
    '5\r\nhello\rX0\r\n\r\n',
    '5\r\nhello\r\r\n0\r\n\r\n',
    '4\r\nhello\r\n0\r\n\r\n',
  ]) {
    assert.deepEqual(decode(body), fails('bad-chunk-framing'), JSON.stringify(body));
  }
});

test('ChunkedDecoder rejects a CR not followed by LF on the chunk-size line', () => {
  assert.deepEqual(decode('5\r\r\nhello\r\n0\r\n\r\n'), fails('bad-chunk-framing'));
  assert.deepEqual(decode('5;a\rhello\r\n0\r\n\r\n'), fails('bad-chunk-framing'));
});

test('ChunkedDecoder rejects a bare LF anywhere in the framing or trailers', () => {
  for (const body of [
    '\n5\r\nhello\r\n0\r\n\r\n',
    '5\nhello\r\n0\r\n\r\n',
    '5;a\nhello\r\n0\r\n\r\n',
    '5;a=b\nhello\r\n0\r\n\r\n',
    '5;a="x\n"\r\nhello\r\n0\r\n\r\n',
    '5;\nhello\r\n0\r\n\r\n',
    '5 \nhello\r\n0\r\n\r\n',
    '5\r\nhello\n0\r\n\r\n',
    '0\n\r\n',
    '0\r\n\n',
    '0\r\nX: 1\n\r\n',
    '0\r\nX\n',
    '0\r\nX:\n',
    '0\r\nX: 1\r\n\n',
  ]) {
    assert.deepEqual(decode(body), fails('bare-lf'), JSON.stringify(body));
  }
});

test('ChunkedDecoder reports trailer fields with names as received and values trimmed', () => {
  const body =
    '3\r\nabc\r\n0\r\nX-A: 1\r\nx-b:\t two  words \t\r\nX-Empty:\r\nX-Blank: \t \r\nX-Obs: caf\xe9\r\n\r\n';
  assert.deepEqual(
    decode(`${body}NEXT`),
    ok('abc', body.length, [
      'X-A',
      '1',
      'x-b',
      'two  words',
      'X-Empty',
      '',
      'X-Blank',
      '',
      'X-Obs',
      'caf\u00e9',
    ]),
  );
});

test('ChunkedDecoder rejects trailer fields that break the field-line rules', () => {
  for (const lines of [
    'X-A : 1\r\n',
    'X-A\t: 1\r\n',
    ' X: 1\r\n',
    'X: a\r\n b\r\n',
    'X: a\r\n\tb\r\n',
    'X\r\n',
    ': v\r\n',
    'X(: v\r\n',
    'X\xe9: v\r\n',
    'X: a\x00b\r\n',
    'X: a\x7fb\r\n',
    'X: a\x1bb\r\n',
    'X: a\rb\r\n',
    '\rX',
  ]) {
    assert.deepEqual(decode(`0\r\n${lines}\r\n`), fails('bad-trailer'), JSON.stringify(lines));
  }
});

test('ChunkedDecoder bounds the trailer section in bytes', () => {
  const body = '0\r\nX: 1\r\nY: 2\r\n\r\n';
  assert.deepEqual(
    decode(body, { ...LIMITS, maxTrailerBytes: 12 }),
    ok('', body.length, ['X', '1', 'Y', '2']),
  );
  assert.deepEqual(decode(body, { ...LIMITS, maxTrailerBytes: 11 }), fails('trailer-too-large'));
  const none = { ...LIMITS, maxTrailerBytes: 0 };
  assert.deepEqual(decode('0\r\n\r\n', none), ok('', 5));
  assert.deepEqual(decode(body, none), fails('trailer-too-large'));
  const long = `0\r\nX: ${'v'.repeat(100)}\r\n\r\n`;
  assert.deepEqual(decode(long, { ...LIMITS, maxTrailerBytes: 50 }), fails('trailer-too-large'));
});

test('ChunkedDecoder bounds the trailer section in fields', () => {
  const body = '0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n';
  const three = ok('', body.length, ['A', '1', 'B', '2', 'C', '3']);
  assert.deepEqual(decode(body, { ...LIMITS, maxTrailerFields: 3 }), three);
  assert.deepEqual(decode(body, { ...LIMITS, maxTrailerFields: 2 }), fails('trailer-too-large'));
  assert.deepEqual(decode(body, { ...LIMITS, maxTrailerFields: 0 }), fails('trailer-too-large'));
});

test('ChunkedDecoder errors carry status 400 and are ParseErrors', () => {
  const decoder = new ChunkedDecoder(LIMITS);
  const input = Buffer.from('zz\r\n');
  assert.throws(
    () => decoder.push(input, 0, input.length, () => {}),
    (err: unknown) => err instanceof ParseError && err.status === 400 && err.code === 'bad-chunk-size',
  );
});

test('ChunkedDecoder reset() readies it for the next message and leaves old trailers alone', () => {
  const decoder = new ChunkedDecoder(LIMITS);
  const stream = Buffer.from('2\r\nab\r\n0\r\nX: 1\r\n\r\n1;e\r\nc\r\n0\r\n\r\n');
  const data: string[] = [];
  const onData = (view: Buffer) => data.push(view.toString());
  const first = decoder.push(stream, 0, stream.length, onData);
  assert.equal(decoder.done, true);
  const trailers = decoder.trailers;
  assert.deepEqual(trailers, ['X', '1']);
  decoder.reset();
  assert.equal(decoder.done, false);
  assert.deepEqual(decoder.trailers, []);
  const second = decoder.push(stream, first, stream.length, onData);
  assert.equal(first + second, stream.length);
  assert.equal(decoder.done, true);
  assert.deepEqual(data, ['ab', 'c']);
  assert.deepEqual(trailers, ['X', '1']);
  assert.deepEqual(decoder.trailers, []);
});

test('ChunkedDecoder reset() restarts the per-message extension budget', () => {
  const decoder = new ChunkedDecoder({ ...LIMITS, maxChunkExtensionBytes: 4 });
  const message = Buffer.from('1;abc\r\nx\r\n0\r\n\r\n');
  for (let round = 0; round < 3; round++) {
    assert.equal(
      decoder.push(message, 0, message.length, () => {}),
      message.length,
    );
    assert.equal(decoder.done, true);
    decoder.reset();
  }
});

test('ChunkedDecoder hands out large chunk data in as few views as the input allows', () => {
  const payload = Buffer.alloc(100_000, 0x61);
  const input = Buffer.concat([Buffer.from('186a0\r\n'), payload, Buffer.from('\r\n0\r\n\r\n')]);
  const decoder = new ChunkedDecoder(LIMITS);
  const views: Buffer[] = [];
  assert.equal(
    decoder.push(input, 0, input.length, (v) => views.push(v)),
    input.length,
  );
  assert.equal(views.length, 1);
  assert.equal(views[0]?.length, 100_000);
});
