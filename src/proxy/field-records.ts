/**
 * Conversions between the field shapes the proxies meet: ordered [name, value] lists (the
 * upstream client's), header records (the engine's Request/Response), and joined single values.
 */
import type { FieldList } from './upstream-types.js';

/** A repeated field as one value, joined with ', ' (RFC 9110 §5.3). */
export function joined(value: string | readonly string[] | undefined): string | undefined {
  return value === undefined || typeof value === 'string' ? value : value.join(', ');
}

/** A header record as [name, value] pairs, arrays as repeated fields. */
export function fieldsOf(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): [string, string][] {
  const out: [string, string][] = [];
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push([name, v]);
    else out.push([name, value]);
  }
  return out;
}

/** Fields as a header record for writeHead()/writeInformational(): repeated names become arrays. */
export function record(fields: FieldList): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of fields) {
    const existing = out[name];
    if (existing === undefined) out[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[name] = [existing, value];
  }
  return out;
}

/** Fields as a trailer record: repeated names joined with ', ' (RFC 9110 §5.3). */
export function joinedRecord(fields: FieldList): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of fields) {
    const existing = out[name];
    out[name] = existing === undefined ? value : `${existing}, ${value}`;
  }
  return out;
}

/** Fields as flat [name, value, name, value, …] strings (Request.rawHeaders' shape). */
export function flatFields(fields: FieldList): string[] {
  const out: string[] = [];
  for (const [name, value] of fields) out.push(name, value);
  return out;
}
