/**
 * The disk store's metadata file (disk-store.ts): one JSON object per entry holding its key, id,
 * storage order, body size and head. Kept apart from the store so the format, and the checks a
 * file must pass before its entry is trusted again, read in one place.
 *
 * Vary is written as [name, value | null] pairs because JSON has no `undefined`, and a Vary name
 * the request lacked must survive a restart (dropping it would let the variant match any value).
 * Times that are not finite (Infinity) are written as strings for the same reason.
 */
import type { StoredBody, StoredEntry, StoredHead } from './store.js';

/** A stored entry whose body is a file: what the disk store hands out. */
export type FileEntry = StoredEntry & { readonly body: Extract<StoredBody, { kind: 'file' }> };

/** What a metadata file says. */
export type DiskMeta = {
  readonly key: string;
  readonly id: string;
  /** Storage order within the directory (0, 1, 2, ...): orders variants and use after a restart. */
  readonly order: number;
  readonly size: number;
  readonly head: StoredHead;
};

const META_VERSION = 1;

/** The entry for `head` with its body in the file `path` of `size` bytes; copies only head fields. */
export function fileEntry(head: StoredHead, id: string, path: string, size: number): FileEntry {
  return {
    status: head.status,
    statusMessage: head.statusMessage,
    headers: head.headers,
    vary: head.vary,
    requestTime: head.requestTime,
    responseTime: head.responseTime,
    staleAt: head.staleAt,
    deleteAt: head.deleteAt,
    id,
    body: { kind: 'file', path, size },
  };
}

/** The metadata file's text for entry, stored under key as number `order`. */
export function encodeMeta(key: string, entry: FileEntry, order: number): string {
  return JSON.stringify({
    v: META_VERSION,
    key,
    id: entry.id,
    order,
    size: entry.body.size,
    status: entry.status,
    statusMessage: entry.statusMessage,
    headers: entry.headers,
    vary: Object.entries(entry.vary).map(([name, value]) => [name, value ?? null]),
    requestTime: encodeTime(entry.requestTime),
    responseTime: encodeTime(entry.responseTime),
    staleAt: encodeTime(entry.staleAt),
    deleteAt: encodeTime(entry.deleteAt),
  });
}

/** The metadata in `json`, or undefined unless it parses and every field has the right type. */
export function decodeMeta(json: string): DiskMeta | undefined {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null || m.v !== META_VERSION) return undefined;
  const { key, id, order, size, status, statusMessage, headers, vary } = m;
  const [requestTime, responseTime, staleAt, deleteAt] = [
    m.requestTime,
    m.responseTime,
    m.staleAt,
    m.deleteAt,
  ].map(decodeTime);
  if (
    typeof key !== 'string' ||
    typeof id !== 'string' ||
    !isCount(order) ||
    !isCount(size) ||
    !isCount(status) ||
    typeof statusMessage !== 'string' ||
    !isPairList(headers, false) ||
    !isPairList(vary, true) ||
    requestTime === undefined ||
    responseTime === undefined ||
    staleAt === undefined ||
    deleteAt === undefined
  ) {
    return undefined;
  }
  // fromEntries defines own properties, so even a name like `__proto__` stays data.
  const varyRecord = Object.fromEntries(vary.map(([name, value]) => [name, value ?? undefined]));
  const head = {
    status,
    statusMessage,
    headers,
    vary: varyRecord,
    requestTime,
    responseTime,
    staleAt,
    deleteAt,
  };
  return { key, id, order, size, head };
}

function encodeTime(ms: number): number | string {
  return Number.isFinite(ms) ? ms : String(ms);
}

function decodeTime(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  return value === 'Infinity' || value === '-Infinity' ? Number(value) : undefined;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isPairList(value: unknown, nullable: false): value is [string, string][];
function isPairList(value: unknown, nullable: true): value is [string, string | null][];
function isPairList(value: unknown, nullable: boolean): boolean {
  return (
    Array.isArray(value) &&
    value.every(
      (pair) =>
        Array.isArray(pair) &&
        pair.length === 2 &&
        typeof pair[0] === 'string' &&
        (typeof pair[1] === 'string' || (nullable && pair[1] === null)),
    )
  );
}
