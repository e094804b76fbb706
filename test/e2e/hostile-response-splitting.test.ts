/**
 * Response splitting, end to end: a handler that copies request input into a response field
 * (`Location: /x\r\nSet-Cookie: a=b`) must get a 500 instead, and nothing it tried to inject may
 * reach the wire — over HTTP/1.1 (raw bytes checked) and over h2c (decoded fields checked).
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { describe, it } from 'node:test';
import type { Handler, Response } from '../../src/index.js';
import { exchange, fieldValues, get, withServer } from './raw-client.js';

const TEST_TIMEOUT_MS = 10_000;
const INJECTED = '/x\r\nSet-Cookie: a=b';

/** Ways a handler can put a field value or name on the wire, each given the hostile text. */
const VECTORS: Readonly<Record<string, (res: Response, evil: string) => void>> = {
  'setHeader() value': (res, evil) => res.setHeader('Location', evil),
  'setHeader() value with a bare LF': (res, evil) => res.setHeader('Location', evil.replace('\r\n', '\n')),
  'setHeader() value with a bare CR': (res, evil) => res.setHeader('Location', evil.replace('\r\n', '\r')),
  'setHeader() value with NUL': (res, evil) => res.setHeader('Location', evil.replace('\r\n', '\0')),
  'setHeader() array value': (res, evil) => res.setHeader('Link', ['</a>', evil]),
  'setHeader() name': (res) => res.setHeader('X-A: b\r\nSet-Cookie', 'a=b'),
  'writeHead() fields': (res, evil) => {
    res.writeHead(302, { Location: evil });
  },
  'writeHead() reason phrase': (res, evil) => {
    res.writeHead(302, `Found${evil}`, { Location: '/x' });
  },
  'statusMessage property': (res, evil) => {
    res.statusCode = 302;
    res.statusMessage = `Found${evil}`;
  },
};

function handlerFor(vector: (res: Response, evil: string) => void): Handler {
  return (_req, res) => {
    vector(res, INJECTED);
    res.end('redirecting');
  };
}

describe('response splitting', () => {
  for (const [name, vector] of Object.entries(VECTORS)) {
    it(`HTTP/1.1: ${name} with CR/LF gets a 500 and injects nothing`, {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      const errors: unknown[] = [];
      await withServer(handlerFor(vector), { onError: (err) => errors.push(err) }, async ({ port }) => {
        const result = await exchange({ port }, get('/') + get('/after'), { responses: 2 });
        assert.equal(result.finals[0]?.status, 500, result.text);
        assert.doesNotMatch(result.text, /set-cookie|a=b/i, 'nothing injected reached the wire');
        assert.deepEqual(fieldValues(result.finals[0]!, 'location'), []);
        // The connection is still in step: the next request is answered on it.
        assert.equal(result.finals[1]?.status, 500);
        assert.equal(result.rest.length, 0);
      });
      assert.ok(errors.length >= 1 && errors[0] instanceof TypeError, 'the handler error was reported');
    });
  }

  for (const [name, vector] of Object.entries(VECTORS)) {
    // HTTP/2 has no reason phrase (RFC 9113 §8.3.2): statusMessage is never sent there (a reason
    // given to writeHead() is still checked, and refused like any other field value).
    const noReason = name.includes('statusMessage');
    it(`h2c: ${name} with CR/LF ${noReason ? 'is never sent' : 'gets a 500 and injects nothing'}`, {
      timeout: TEST_TIMEOUT_MS,
    }, async () => {
      const errors: unknown[] = [];
      await withServer(
        handlerFor(vector),
        { h2c: true, onError: (err) => errors.push(err) },
        async ({ url }) => {
          const session = http2.connect(url);
          session.on('error', () => {});
          try {
            const { headers, body } = await new Promise<{
              headers: http2.IncomingHttpHeaders;
              body: string;
            }>((resolve, reject) => {
              const stream = session.request({ ':path': '/' });
              let got: http2.IncomingHttpHeaders = {};
              let text = '';
              stream.on('response', (h) => (got = h));
              stream.setEncoding('latin1');
              stream.on('data', (chunk: string) => (text += chunk));
              stream.on('end', () => resolve({ headers: got, body: text }));
              stream.on('error', reject);
            });
            const all = JSON.stringify(headers) + body;
            assert.doesNotMatch(all, /set-cookie|a=b/i, 'nothing injected reached the client');
            if (noReason) {
              assert.equal(headers[':status'], 302);
            } else {
              assert.equal(headers[':status'], 500);
              assert.equal(headers.location, undefined);
            }
          } finally {
            session.close();
          }
        },
      );
      if (!noReason) assert.ok(errors.length >= 1, 'the handler error was reported');
    });
  }
});
