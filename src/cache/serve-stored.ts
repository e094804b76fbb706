/**
 * Answers a request from a stored response: the stored head with a fresh Age (RFC 9111 §5.1:
 * a cache "SHOULD generate an Age header field" on responses it serves from storage) and this
 * cache's Cache-Status; 304 to a client whose own condition holds (§4.3.2); 206 for a single byte
 * range of a stored 200 (RFC 9110 §14); no body for HEAD.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { appendField } from '../handler/append-field.js';
import type { HeaderValue, Request, Response } from '../handler/types.js';
import { parseHttpDate } from '../http/date.js';
import { evaluateIfRange, evaluatePreconditions } from '../http/preconditions.js';
import { contentRange, parseRange, unsatisfiedRange } from '../http/range.js';
import { cacheStatusValue } from './cache-status.js';
import { fieldValue } from './policy.js';
import type { StoredEntry } from './store.js';

/** Fields a 304 carries from the stored response (RFC 9110 §15.4.5). */
const NOT_MODIFIED_FIELDS: ReadonlySet<string> = new Set([
  'cache-control',
  'content-location',
  'date',
  'etag',
  'expires',
  'vary',
  'last-modified',
]);

/** Stored fields this cache writes itself when it serves from storage. */
const NOT_SERVED: ReadonlySet<string> = new Set(['age', 'cache-status']);

/** How to serve a stored entry. */
export type Serving = {
  /** The current age in seconds (Age). */
  readonly age: number;
  /** This cache's Cache-Status member. */
  readonly member: string;
  /** A gateway cache: Surrogate-Control was for it and is not passed on (Edge Architecture §3). */
  readonly surrogate: boolean;
};

/** The stored head as a header record (repeated fields as arrays), built once per entry. */
const records = new WeakMap<StoredEntry, Record<string, HeaderValue>>();

function recordOf(entry: StoredEntry, surrogate: boolean): Record<string, HeaderValue> {
  let record = records.get(entry);
  if (record !== undefined) return record;
  record = Object.create(null) as Record<string, HeaderValue>;
  for (const [name, value] of entry.headers) {
    if (NOT_SERVED.has(name) || (name === 'surrogate-control' && surrogate)) continue;
    const prior = record[name];
    record[name] =
      prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior as string, value];
  }
  records.set(entry, record);
  return record;
}

/**
 * Writes `entry` as the answer to `req`. Resolves false, having written nothing, when the stored body is
 * gone (a file evicted since lookup): the caller treats that as a miss.
 */
export async function serveStored(
  req: Request,
  res: Response,
  entry: StoredEntry,
  how: Serving,
): Promise<boolean> {
  const { age, member } = how;
  const status = entry.status;
  const cacheStatus = cacheStatusValue(fieldValue(entry.headers, 'cache-status'), member);
  if (status === 200 && clientConditionHolds(req, entry) === false) {
    res.statusCode = 304;
    for (const [name, value] of entry.headers)
      if (NOT_MODIFIED_FIELDS.has(name)) appendField(res, name, value);
    res.setHeader('age', age);
    res.setHeader('cache-status', cacheStatus);
    res.end();
    return true;
  }
  const size = entry.body.size;
  let start = 0;
  let end = size - 1;
  res.statusCode = status;
  res.statusMessage = entry.statusMessage;
  const record = recordOf(entry, how.surrogate);
  for (const name in record) res.setHeader(name, record[name]!);
  res.setHeader('age', age);
  res.setHeader('cache-status', cacheStatus);
  const range = status === 200 && req.method === 'GET' ? rangeOf(req, entry, size) : undefined;
  if (range === 'unsatisfiable') {
    res.statusCode = 416;
    res.statusMessage = '';
    res.setHeader('content-range', unsatisfiedRange(size));
    res.setHeader('content-length', 0);
    res.end();
    return true;
  }
  if (range !== undefined) {
    start = range.start;
    end = range.end;
    res.statusCode = 206;
    res.statusMessage = '';
    res.setHeader('content-range', contentRange(range, size));
  }
  const length = end - start + 1;
  if (status !== 204 && status !== 304) res.setHeader('content-length', length);
  if (req.method === 'HEAD' || length === 0 || status === 204 || status === 304) {
    res.end();
    return true;
  }
  if (entry.body.kind === 'memory') {
    writeChunks(res, entry.body.chunks, start, end);
    return true;
  }
  let file: FileHandle;
  try {
    file = await open(entry.body.path, 'r');
  } catch {
    return false;
  }
  try {
    await res.send(file.createReadStream({ start, end, autoClose: false }));
  } finally {
    await file.close();
  }
  return true;
}

/**
 * The client's If-None-Match / If-Modified-Since evaluated against the stored validators (RFC 9110
 * §13.2.2 steps 3 and 4): false when the client's copy is current (answer 304), undefined when it
 * sent no such condition. If-Match and If-Unmodified-Since are the origin's to judge.
 */
function clientConditionHolds(req: Request, entry: StoredEntry): boolean | undefined {
  const ifNoneMatch = req.headers['if-none-match'] as string | undefined;
  const ifModifiedSince = req.headers['if-modified-since'] as string | undefined;
  if (ifNoneMatch === undefined && ifModifiedSince === undefined) return undefined;
  // RFC 9111 §4.3.2: If-Modified-Since is evaluated against Last-Modified, "or the Date ... if no
  // Last-Modified ... was provided".
  const lastModified = fieldValue(entry.headers, 'last-modified') ?? fieldValue(entry.headers, 'date');
  const result = evaluatePreconditions(
    'GET',
    { 'if-none-match': ifNoneMatch, 'if-modified-since': ifModifiedSince },
    {
      etag: fieldValue(entry.headers, 'etag'),
      lastModifiedMs: lastModified === undefined ? undefined : parseHttpDate(lastModified),
      exists: true,
    },
  );
  return result.kind !== 'not-modified';
}

/** A single satisfiable range to send as 206, 'unsatisfiable' for 416, undefined for the whole body. */
function rangeOf(
  req: Request,
  entry: StoredEntry,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  const header = req.headers.range as string | undefined;
  if (header === undefined) return undefined;
  const lastModified = fieldValue(entry.headers, 'last-modified');
  const validators = {
    etag: fieldValue(entry.headers, 'etag'),
    lastModifiedMs: lastModified === undefined ? undefined : parseHttpDate(lastModified),
  };
  if (!evaluateIfRange(req.headers['if-range'] as string | undefined, validators, entry.responseTime))
    return undefined;
  const result = parseRange(header, size);
  if (result.kind === 'unsatisfiable') return 'unsatisfiable';
  // Several ranges would need a multipart/byteranges body; the whole representation is a valid
  // answer to any Range request (RFC 9110 §14.2: a server MAY ignore Range).
  if (result.kind !== 'ranges' || result.ranges.length !== 1) return undefined;
  return result.ranges[0];
}

/** Writes bytes start..end (inclusive) of the stored chunks, then ends the response. */
function writeChunks(res: Response, chunks: readonly Buffer[], start: number, end: number): void {
  if (chunks.length === 1 && start === 0 && end === chunks[0]!.length - 1) {
    res.end(chunks[0]);
    return;
  }
  let offset = 0;
  for (const chunk of chunks) {
    const chunkEnd = offset + chunk.length;
    if (chunkEnd > start && offset <= end) {
      res.write(chunk.subarray(Math.max(0, start - offset), Math.min(chunk.length, end - offset + 1)));
    }
    offset = chunkEnd;
    if (offset > end) break;
  }
  res.end();
}
