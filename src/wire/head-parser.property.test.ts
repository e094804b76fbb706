/**
 * Properties of RequestParser and ResponseParser over generated messages (fuzz/arbitraries.ts):
 * a valid request parses to what was meant, whatever the cuts; a parsed head written again with
 * the head writer parses to the same head; and any bytes — random, or a valid request with a few
 * bytes changed — give only ParseError and the same outcome however they are cut (the fuzzer's
 * own check, fuzz/targets.ts). Bounded runs, so they stay in `npm test`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  cutsFor,
  decodeChunked,
  pieces,
  type RequestModel,
  requestModel,
  responseModel,
} from '../../fuzz/arbitraries.js';
import { TARGETS } from '../../fuzz/targets.js';
import type { RequestHead, ResponseHead } from './head.js';
import { RequestParser, ResponseParser } from './head-parser.js';
import { writeRequestHead, writeResponseHead } from './head-writer.js';

const RUNS = 300;
const requestTarget = TARGETS.find((t) => t.name === 'request')!;
const responseTarget = TARGETS.find((t) => t.name === 'response')!;

/** Feeds `input` in the pieces cut at `cuts`; returns the head and the bytes of the input it used. */
function parseHead<Head>(
  parser: { push(buf: Buffer, start: number, end: number): Head | undefined; consumed: number },
  input: Buffer,
  cuts: readonly number[],
): { head: Head; consumed: number } | undefined {
  let consumed = 0;
  for (const { buf, start, end } of pieces(input, cuts)) {
    const head = parser.push(buf, start, end);
    consumed += parser.consumed;
    if (head !== undefined) return { head, consumed };
  }
  return undefined;
}

function pairs(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

function expectRequest(model: RequestModel, head: RequestHead): void {
  assert.equal(head.method, model.method);
  assert.equal(head.target, model.target);
  assert.equal(head.form, model.form);
  assert.equal(head.version, model.version);
  assert.equal(head.authority, model.authority);
  assert.deepEqual(
    pairs(head.rawHeaders),
    model.fields.map((f) => [f.name, f.value]),
  );
  const body = model.body;
  if (body.kind === 'chunked') assert.deepEqual(head.framing, { kind: 'chunked' });
  else if (body.kind === 'length' && body.body.length > 0)
    assert.deepEqual(head.framing, { kind: 'length', length: body.body.length });
  else assert.deepEqual(head.framing, { kind: 'none' });
}

test('RequestParser parses any valid request to its fields, framing and body, however it is cut', () => {
  fc.assert(
    fc.property(
      requestModel.chain((model) => fc.tuple(fc.constant(model), cutsFor(model.bytes.length))),
      ([model, cuts]) => {
        const got = parseHead(new RequestParser(), model.bytes, cuts);
        assert.ok(got !== undefined, 'a head');
        expectRequest(model, got.head);
        const rest = model.bytes.subarray(got.consumed);
        const body = model.body;
        if (body.kind === 'chunked') {
          const decoded = decodeChunked(rest, []);
          assert.deepEqual(decoded, {
            data: body.body,
            trailers: body.trailers,
            consumed: rest.length,
            done: true,
          });
        } else {
          assert.deepEqual(rest, body.kind === 'length' ? body.body : Buffer.alloc(0));
        }
      },
    ),
    { numRuns: RUNS },
  );
});

test('a request head written again by writeRequestHead() parses to the same head', () => {
  fc.assert(
    fc.property(requestModel, (model) => {
      const first = parseHead(new RequestParser(), model.bytes, [])!.head;
      const bytes = writeRequestHead(first.method, first.target, pairs(first.rawHeaders));
      const again = parseHead(new RequestParser(), bytes, [])!;
      assert.equal(again.consumed, bytes.length);
      // The writer always says HTTP/1.1: a 1.0 head comes back as the same request in 1.1.
      if (first.version === '1.1') assert.deepEqual(again.head, first);
      else expectRequest({ ...model, version: '1.1' }, again.head);
    }),
    { numRuns: RUNS },
  );
});

test('ResponseParser parses any valid status-line and fields, and writeResponseHead() round-trips them', () => {
  fc.assert(
    fc.property(
      responseModel.chain((model) => fc.tuple(fc.constant(model), cutsFor(model.bytes.length))),
      ([model, cuts]) => {
        const got = parseHead<ResponseHead>(new ResponseParser(), model.bytes, cuts);
        assert.ok(got !== undefined);
        assert.equal(got.consumed, model.bytes.length);
        assert.equal(got.head.status, model.status);
        assert.equal(got.head.reason, model.reason);
        assert.deepEqual(
          pairs(got.head.rawHeaders),
          model.fields.map((f) => [f.name, f.value]),
        );
        const bytes = writeResponseHead(got.head.status, pairs(got.head.rawHeaders), got.head.reason);
        assert.deepEqual(parseHead(new ResponseParser(), bytes, [])?.head, got.head);
      },
    ),
    { numRuns: RUNS },
  );
});

/** A valid request with one to four bytes replaced, inserted or removed. */
const damagedRequest = requestModel.chain((model) =>
  fc
    .array(
      fc.tuple(
        fc.nat(model.bytes.length),
        fc.constantFrom('set', 'insert', 'remove'),
        fc.integer({ min: 0, max: 255 }),
      ),
      {
        minLength: 1,
        maxLength: 4,
      },
    )
    .map((edits) => {
      let b = Buffer.from(model.bytes);
      for (const [at, op, byte] of edits) {
        const i = Math.min(at, b.length);
        const one = Buffer.from([byte]);
        if (op === 'set' && i < b.length) b[i] = byte;
        else if (op === 'insert') b = Buffer.concat([b.subarray(0, i), one, b.subarray(i)]);
        else b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
      }
      return b;
    }),
);

test('a damaged request gives the same head or ParseError however it is cut, and round-trips if accepted', () => {
  fc.assert(
    fc.property(damagedRequest, (input) => requestTarget.check(input)),
    { numRuns: RUNS },
  );
});

test('arbitrary bytes give only ParseError and the same outcome however they are cut', () => {
  const bytes = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a));
  fc.assert(
    fc.property(bytes, (input) => {
      requestTarget.check(input);
      responseTarget.check(input);
    }),
    { numRuns: RUNS },
  );
});

// ---- regressions found by the fuzzer (head-parser.ts: the bare CR, limit and bare LF order) ----

test('RequestParser reports a bare CR before a bare LF later on the same line, however the line is cut', () => {
  const input = 'GET \rTransfer-Encoding: chunked\n\r\n';
  for (const cuts of [[], [5], [4, 5, 6]]) {
    assert.throws(() => parseHead(new RequestParser(), Buffer.from(input, 'latin1'), cuts), {
      code: 'bad-target',
    });
  }
});

test('RequestParser reports a bare CR before the request-line limit, whole or cut', () => {
  const limits = { maxRequestLineBytes: 64 };
  // A bare CR at byte 18, in a request-line of 65 bytes (over the limit by one).
  const line = `POST /post chunked\r${'x'.repeat(46)}`;
  assert.equal(line.length, 65);
  for (const cuts of [[], [19], [20], [40]]) {
    const input = Buffer.from(`${line}\r\nHost: a\r\n\r\n`, 'latin1');
    assert.throws(() => parseHead(new RequestParser(limits), input, cuts), { code: 'bad-version' });
  }
});

test('ResponseParser judges the version first, so a status-line cut at a bare CR fails the same way', () => {
  // Byte 8 is SP and byte 12 is SP, but the version holds a CR.
  const input = Buffer.from('\r\n\rhost\xd3\x1a0 1\xff1 Switching\r\n\r\n', 'latin1');
  for (const cuts of [[], [3], [4]]) {
    assert.throws(() => parseHead(new ResponseParser(), input, cuts), { code: 'bad-version' });
  }
});
