/**
 * The `errorPages` middleware (a site's `errorPages`): when next answers with a status that has a
 * page, the body becomes that HTML file, sent as `text/html; charset=utf-8` with the status kept.
 * The files are read once, when the middleware is built, and never again: a page edited on disk
 * shows after a reload, and a request never waits on the disk for one.
 *
 * Two ways next answers with an error, both covered:
 * - it sets the status and writes: the head is looked at before anything is sent (intercept()),
 *   and the body next writes is dropped for the page's;
 * - it throws an HttpError (static files throw 404 and 403; a plain Error counts as 500): if no
 *   byte has been sent, the page is rendered here with the error's own fields (Allow,
 *   Retry-After, …), in place of the engine's short text. A 5xx is then thrown on, so the engine
 *   still reports it; it finds the response complete and leaves it alone (conn/ handlerFailed).
 *
 * Fields next set that describe its own body go with it (Content-Encoding, Content-Language,
 * ETag, Last-Modified, Content-Disposition, and Content-Range except on a 416, where it states
 * the representation's length, RFC 9110 §15.5.17); the others (Set-Cookie, WWW-Authenticate,
 * Allow, Cache-Control, Vary, …) stay. HEAD gets the fields, Content-Length included, without
 * the body (RFC 9110 §9.3.2).
 */
import { readFile } from 'node:fs/promises';
import { HttpError } from '../handler/http-error.js';
import type { Request, Response } from '../handler/types.js';
import { type BodyPlan, type HeadView, intercept, PASS } from './intercept.js';
import type { Middleware } from './types.js';

const HTML = 'text/html; charset=utf-8';
/** Fields that describe next's body, not the page (RFC 9110 §8: representation metadata). */
const BODY_FIELDS = ['content-encoding', 'content-language', 'etag', 'last-modified', 'content-disposition'];

/**
 * Builds the middleware from status → absolute path of an HTML file; reads every file now.
 * Rejects when a status is not an error one (400–599) or a file cannot be read.
 */
export async function errorPages(pages: Readonly<Record<number, string>>): Promise<Middleware> {
  const bodies = new Map<number, Buffer>();
  for (const key of Object.keys(pages)) {
    const status = Number(key);
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new Error(`errorPages: ${key} is not an error status (400–599)`);
    }
    const file = pages[status]!;
    try {
      bodies.set(status, await readFile(file));
    } catch (err) {
      throw new Error(`errorPages: cannot read the page for ${status} (${file}): ${(err as Error).message}`);
    }
  }
  if (bodies.size === 0) return (next) => next;

  const onHead = (head: HeadView, isHead: boolean): BodyPlan => {
    const res = head.res;
    const page = bodies.get(res.statusCode);
    if (page === undefined) return PASS;
    usePage(res, page);
    return { kind: 'replace', body: isHead ? undefined : page };
  };

  return (next) => async (req, res) => {
    const isHead = req.method === 'HEAD';
    try {
      await intercept(next, req, res, (head) => onHead(head, isHead));
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      const page = bodies.get(status);
      if (page === undefined || res.headersSent) throw err;
      renderThrown(req, res, err, status, page);
      if (status >= 500) throw err;
    }
  };
}

/** Sets the page's fields on a response whose status has a page. */
function usePage(res: Response, page: Buffer): void {
  for (const name of BODY_FIELDS) res.removeHeader(name);
  if (res.statusCode !== 416) res.removeHeader('content-range');
  res.setHeader('Content-Type', HTML);
  res.setHeader('Content-Length', String(page.length));
}

/** Answers a thrown error with its page, on a response next left unsent. */
function renderThrown(req: Request, res: Response, err: unknown, status: number, page: Buffer): void {
  // As the engine would: a fresh response, whatever next had set before it threw.
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  res.statusCode = status;
  res.statusMessage = '';
  if (err instanceof HttpError)
    for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
  usePage(res, page);
  res.end(req.method === 'HEAD' ? undefined : page);
}
