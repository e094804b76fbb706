/**
 * Properties of ChunkedDecoder: any body, chunked at any sizes — by the body encoders, or by hand
 * with hex sizes in either case, leading zeros, chunk extensions and trailers — decodes back to the
 * same bytes and trailers however the input is cut; and any bytes give only ParseError and the
 * same outcome however they are cut (the fuzzer's check, fuzz/targets.ts). Bounded runs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bodyBytes, chunkedBody, cutsFor, decodeChunked, field } from '../../fuzz/arbitraries.js';
import { TARGETS } from '../../fuzz/targets.js';
import { encodeChunk, lastChunkWithTrailers } from './body-encoders.js';

const RUNS = 300;
const chunkedTarget = TARGETS.find((t) => t.name === 'chunked')!;

test('a body framed by encodeChunk() and lastChunkWithTrailers() decodes back, for any chunk sizes and cuts', () => {
  const encoded = fc
    .tuple(
      bodyBytes,
      fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 1, maxLength: 20 }),
      fc.array(field, { maxLength: 3 }),
    )
    .map(([body, sizes, trailers]) => {
      const parts: Buffer[] = [];
      for (let at = 0, k = 0; at < body.length; k++) {
        const n = sizes[k % sizes.length]!;
        parts.push(...encodeChunk(body.subarray(at, at + n)));
        at += n;
      }
      parts.push(lastChunkWithTrailers(trailers.map((f) => [f.name, f.value] as const)));
      return { body, trailers: trailers.flatMap((f) => [f.name, f.value]), wire: Buffer.concat(parts) };
    });
  fc.assert(
    fc.property(
      encoded.chain((e) => fc.tuple(fc.constant(e), cutsFor(e.wire.length))),
      ([{ body, trailers, wire }, cuts]) => {
        assert.deepEqual(decodeChunked(wire, cuts), {
          data: body,
          trailers,
          consumed: wire.length,
          done: true,
        });
      },
    ),
    { numRuns: RUNS },
  );
});

test('a hand-chunked body with extensions, leading zeros and trailers decodes back, however it is cut', () => {
  fc.assert(
    fc.property(
      bodyBytes
        .chain(chunkedBody)
        .chain((model) =>
          fc.tuple(fc.constant(model), cutsFor(model.kind === 'chunked' ? model.wire.length : 0)),
        ),
      ([model, cuts]) => {
        assert.ok(model.kind === 'chunked');
        // The decoder stops after the final CRLF, so bytes after the body stay unconsumed.
        const input = Buffer.concat([model.wire, Buffer.from('GET / HTTP/1.1\r\n')]);
        assert.deepEqual(decodeChunked(input, cuts), {
          data: model.body,
          trailers: model.trailers,
          consumed: model.wire.length,
          done: true,
        });
      },
    ),
    { numRuns: RUNS },
  );
});

test('ChunkedDecoder gives only ParseError and the same outcome however arbitrary bytes are cut', () => {
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    // Mostly hex digits, CRLFs and extension syntax, to get past the first byte more often.
    fc
      .array(fc.constantFrom('0', '5', 'a', 'F', '\r\n', '\r', '\n', ';', '=', '"', ' ', 'x', ':', '\\'), {
        maxLength: 60,
      })
      .map((parts) => Buffer.from(parts.join(''), 'latin1')),
  );
  fc.assert(
    fc.property(bytes, (input) => chunkedTarget.check(input)),
    { numRuns: RUNS },
  );
});
