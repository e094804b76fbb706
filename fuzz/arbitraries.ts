/**
 * fast-check generators for the wire/ property tests (src/wire/*.property.test.ts): valid request
 * and response messages as a model (what was meant) with their bytes (what was sent), chunked
 * bodies with extensions and trailers, cut points, and the helpers that feed them in pieces.
 */
import fc from 'fast-check';
import { ChunkedDecoder } from '../src/wire/chunked-decoder.js';
import { DEFAULT_LIMITS } from '../src/wire/limits.js';

const TCHAR = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".split('');
/** Field names whose meaning steers framing or the message; generated fields avoid them. */
const SPECIAL = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'expect', 'upgrade']);

export const token = (maxLength = 12): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...TCHAR), minLength: 1, maxLength });

/** field-vchar: VCHAR and obs-text (RFC 9110 §5.5), as latin1 characters. */
const fieldVchar = fc.oneof(
  fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
);
const ows = fc.string({ unit: fc.constantFrom(' ', '\t'), maxLength: 2 });

/** A field value as sent (with OWS around it and inside) and as the parser reports it (trimmed). */
export const fieldValue: fc.Arbitrary<{ sent: string; value: string }> = fc
  .tuple(
    ows,
    fc.array(fc.tuple(fc.string({ unit: fieldVchar, minLength: 1, maxLength: 8 }), ows), { maxLength: 4 }),
    ows,
  )
  .map(([before, parts, after]) => {
    const value = parts
      .map(([word, space], i) => (i < parts.length - 1 ? word + (space === '' ? ' ' : space) : word))
      .join('');
    return { sent: `${before}${value}${after}`, value };
  });

export type Field = { readonly name: string; readonly sent: string; readonly value: string };

export const field: fc.Arbitrary<Field> = fc
  .tuple(token(16), fieldValue)
  .filter(([name]) => !SPECIAL.has(name.toLowerCase()))
  .map(([name, v]) => ({ name, ...v }));

/** A body: none, Content-Length, or chunked (chunk sizes, chunk extensions, trailer fields). */
export type BodyModel =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly body: Buffer }
  | { readonly kind: 'chunked'; readonly body: Buffer; readonly wire: Buffer; readonly trailers: string[] };

const quoted = fc
  .string({
    unit: fc.oneof(
      fieldVchar.filter((c) => c !== '"' && c !== '\\'),
      fc.constantFrom(' ', '\t', '\\"', '\\\\'),
    ),
    maxLength: 6,
  })
  .map((s) => `"${s}"`);
/** chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) (RFC 9112 §7.1.1). */
const chunkExt = fc
  .array(
    fc.tuple(
      ows,
      ows,
      token(6),
      fc.option(fc.tuple(ows, ows, fc.oneof(token(6), quoted)), { nil: undefined }),
    ),
    {
      maxLength: 2,
    },
  )
  .map((exts) =>
    exts
      .map(
        ([b1, b2, name, val]) =>
          `${b1};${b2}${name}${val === undefined ? '' : `${val[0]}=${val[1]}${val[2]}`}`,
      )
      .join(''),
  );
/** chunk-size: hex, either case, with leading zeros now and then. */
const hexSize = (n: number) =>
  fc.tuple(fc.nat(2), fc.boolean()).map(([zeros, upper]) => {
    const hex = n.toString(16);
    return '0'.repeat(zeros) + (upper ? hex.toUpperCase() : hex);
  });

/** A chunked encoding of `body`: random chunk sizes, extensions and trailers. */
export const chunkedBody = (body: Buffer): fc.Arbitrary<BodyModel> =>
  fc
    .tuple(
      fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 40 }),
      fc.array(fc.tuple(chunkExt, fc.nat()), { minLength: 41, maxLength: 41 }),
      fc.array(field, { maxLength: 3 }),
      fc.nat(3),
    )
    .chain(([sizes, exts, trailerFields, lastZeros]) => {
      // Cut the body at the sizes; what is left goes in one last chunk.
      const pieces: Buffer[] = [];
      let at = 0;
      for (const size of sizes) {
        if (at >= body.length) break;
        pieces.push(body.subarray(at, at + size));
        at += size;
      }
      if (at < body.length) pieces.push(body.subarray(at));
      return fc.tuple(...pieces.map((p) => hexSize(p.length))).map((hexes) => {
        const parts: Buffer[] = [];
        pieces.forEach((piece, i) => {
          parts.push(Buffer.from(`${hexes[i]}${exts[i]![0]}\r\n`, 'latin1'), piece, Buffer.from('\r\n'));
        });
        let last = `${'0'.repeat(1 + lastZeros)}${exts[40]![0]}\r\n`;
        for (const f of trailerFields) last += `${f.name}:${f.sent}\r\n`;
        parts.push(Buffer.from(`${last}\r\n`, 'latin1'));
        return {
          kind: 'chunked' as const,
          body,
          wire: Buffer.concat(parts),
          trailers: trailerFields.flatMap((f) => [f.name, f.value]),
        };
      });
    });

export const bodyBytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));

export const bodyModel = (allowChunked: boolean): fc.Arbitrary<BodyModel> =>
  fc.oneof(
    fc.constant<BodyModel>({ kind: 'none' }),
    bodyBytes.map((body): BodyModel => ({ kind: 'length', body })),
    ...(allowChunked ? [bodyBytes.chain(chunkedBody)] : []),
  );

const pchar = fc.oneof(
  fc.constantFrom(..."abcXYZ019-._~!$&'()*+,;=:@/?".split('')),
  fc.constantFrom('%2F', '%20', '%e2'),
);
const path = fc.string({ unit: pchar, maxLength: 20 }).map((p) => `/${p}`);

/** A request-target with its method, form and the authority it names (RFC 9112 §3.2). */
const targetModel = fc.oneof(
  fc
    .tuple(token(8), path)
    .map(([method, target]) => ({ method, target, form: 'origin' as const, authority: 'a.example' })),
  fc
    .tuple(token(8), fc.constantFrom('b.example', 'b.example:8080', '[::1]:81'), path)
    .map(([method, host, p]) => ({
      method,
      target: `http://${host}${p}`,
      form: 'absolute' as const,
      authority: host,
    })),
  fc.constant({ method: 'OPTIONS', target: '*', form: 'asterisk' as const, authority: 'a.example' }),
  fc.constant({
    method: 'CONNECT',
    target: 'c.example:443',
    form: 'authority' as const,
    authority: 'c.example:443',
  }),
);

export type RequestModel = {
  readonly method: string;
  readonly target: string;
  readonly form: 'origin' | 'absolute' | 'asterisk' | 'authority';
  readonly authority: string;
  readonly version: '1.0' | '1.1';
  readonly fields: readonly Field[];
  readonly body: BodyModel;
  /** The message's bytes. */
  readonly bytes: Buffer;
};

/** Valid requests: any method and target form, generated fields around Host, any body framing. */
export const requestModel: fc.Arbitrary<RequestModel> = fc
  .tuple(
    targetModel,
    fc.constantFrom('1.0' as const, '1.1' as const),
    fc.array(field, { maxLength: 6 }),
    fc.nat(6),
  )
  .filter(([t]) => t.form !== 'origin' || t.method !== 'CONNECT')
  .chain(([t, version, fields, hostAt]) =>
    bodyModel(version === '1.1').map((body): RequestModel => {
      const all: Field[] = [...fields];
      all.splice(Math.min(hostAt, all.length), 0, { name: 'Host', sent: ' a.example', value: 'a.example' });
      if (body.kind === 'length')
        all.push({ name: 'Content-Length', sent: ` ${body.body.length}`, value: `${body.body.length}` });
      if (body.kind === 'chunked')
        all.push({ name: 'Transfer-Encoding', sent: ' chunked', value: 'chunked' });
      let head = `${t.method} ${t.target} HTTP/${version}\r\n`;
      for (const f of all) head += `${f.name}:${f.sent}\r\n`;
      const payload = body.kind === 'none' ? [] : body.kind === 'length' ? [body.body] : [body.wire];
      const bytes = Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), ...payload]);
      return { ...t, version, fields: all, body, bytes };
    }),
  );

export type ResponseModel = {
  readonly status: number;
  readonly reason: string;
  readonly fields: readonly Field[];
  readonly bytes: Buffer;
};

const reason = fc.string({ unit: fc.oneof(fieldVchar, fc.constantFrom(' ', '\t')), maxLength: 20 });

/** Valid HTTP/1.1 response heads (no body: the response target of the fuzzer covers framing). */
export const responseModel: fc.Arbitrary<ResponseModel> = fc
  .tuple(fc.integer({ min: 100, max: 999 }), reason, fc.array(field, { maxLength: 6 }))
  .map(([status, r, fields]) => {
    let head = `HTTP/1.1 ${status} ${r}\r\n`;
    for (const f of fields) head += `${f.name}:${f.sent}\r\n`;
    return { status, reason: r, fields, bytes: Buffer.from(`${head}\r\n`, 'latin1') };
  });

/** Cut points: none, every byte, or a few random offsets into a `length`-byte input. */
export const cutsFor = (length: number): fc.Arbitrary<number[]> =>
  fc.oneof(
    fc.constant<number[]>([]),
    fc.constant(Array.from({ length: Math.max(0, length - 1) }, (_, k) => k + 1)),
    fc.uniqueArray(fc.integer({ min: 0, max: length }), { maxLength: 4 }).map((c) => c.sort((a, b) => a - b)),
  );

/** The pieces of `input` cut at ascending `cuts`, each a view of one larger buffer with junk around. */
export function pieces(
  input: Buffer,
  cuts: readonly number[],
): { buf: Buffer; start: number; end: number }[] {
  const pad = Buffer.from('Z\r\n');
  const buf = Buffer.concat([pad, input, pad]);
  const bounds = [0, ...cuts, input.length];
  return bounds.slice(1).map((b, k) => ({ buf, start: pad.length + bounds[k]!, end: pad.length + b }));
}

export const CHUNKED_LIMITS = {
  maxChunkExtensionBytes: DEFAULT_LIMITS.maxChunkExtensionBytes,
  maxTrailerBytes: DEFAULT_LIMITS.maxTrailerBytes,
  maxTrailerFields: DEFAULT_LIMITS.maxHeaderFields,
};

/** Decodes a whole chunked body fed in `cuts` pieces: its data, trailers and bytes consumed. */
export function decodeChunked(
  input: Buffer,
  cuts: readonly number[],
): { data: Buffer; trailers: string[]; consumed: number; done: boolean } {
  const decoder = new ChunkedDecoder(CHUNKED_LIMITS);
  const data: Buffer[] = [];
  let consumed = 0;
  for (const { buf, start, end } of pieces(input, cuts)) {
    consumed += decoder.push(buf, start, end, (view) => data.push(Buffer.from(view)));
  }
  return { data: Buffer.concat(data), trailers: [...decoder.trailers], consumed, done: decoder.done };
}
