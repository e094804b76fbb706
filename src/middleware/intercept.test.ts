/**
 * intercept() on a real Berth server: what onHead sees and changes, each body plan, and what must
 * pass through untouched — framing, backpressure, trailers, interim responses, takeOver, errors.
 */
import assert from 'node:assert/strict';
import { Transform } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exchange, field, get, RawClient, withServer } from '../../test/e2e/raw-client.js';
import type { Handler } from '../handler/types.js';
import { type BodyPlan, type HeadView, intercept, type OnHead, PASS } from './intercept.js';

/** The server handler: next run through intercept() with onHead. */
function wrap(next: Handler, onHead: OnHead): Handler {
  return (req, res) => intercept(next, req, res, onHead);
}

function upperCase(): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      done(null, Buffer.from(chunk.toString('latin1').toUpperCase(), 'latin1'));
    },
  });
}

describe('intercept()', () => {
  it('intercept() lets onHead see and change the fields next set, before the head is sent', async () => {
    const seen: string[] = [];
    const next: Handler = (_req, res) => {
      res.setHeader('X-From-Next', 'a');
      res.setHeader('X-Drop', 'b');
      res.end('hello');
    };
    const onHead: OnHead = ({ res }) => {
      seen.push(String(res.getHeader('x-from-next')));
      res.setHeader('X-From-Next', 'changed');
      res.removeHeader('x-drop');
      return PASS;
    };
    await withServer(wrap(next, onHead), undefined, async ({ port }) => {
      const { finals } = await exchange({ port }, get('/'), { responses: 1 });
      const res = finals[0]!;
      assert.deepEqual(seen, ['a']);
      assert.equal(field(res, 'x-from-next'), 'changed');
      assert.equal(field(res, 'x-drop'), undefined);
      assert.equal(res.body.toString(), 'hello');
    });
  });

  it('intercept() keeps end(chunk) as one end(chunk), so the engine still sends a Content-Length', async () => {
    const next: Handler = (_req, res) => res.end('twelve bytes');
    await withServer(
      wrap(next, () => PASS),
      undefined,
      async ({ port }) => {
        const res = (await exchange({ port }, get('/'), { responses: 1 })).finals[0]!;
        assert.equal(res.framing, 'length');
        assert.equal(field(res, 'content-length'), '12');
      },
    );
  });

  it('intercept() applies writeHead() status and fields only when the head goes out', async () => {
    const errors: string[] = [];
    const next: Handler = (_req, res) => {
      res.writeHead(201, 'Made', { 'X-Head': '1' });
      assert.equal(res.headersSent, true);
      try {
        res.setHeader('X-Late', '1');
      } catch (err) {
        errors.push((err as Error).message);
      }
      res.end('ok');
    };
    const onHead: OnHead = ({ res }) => {
      res.setHeader('X-Status-Seen', String(res.statusCode));
      return PASS;
    };
    await withServer(wrap(next, onHead), undefined, async ({ port }) => {
      const res = (await exchange({ port }, get('/'), { responses: 1 })).finals[0]!;
      assert.equal(res.status, 201);
      assert.equal(res.reason, 'Made');
      assert.equal(field(res, 'x-head'), '1');
      assert.equal(field(res, 'x-status-seen'), '201');
      assert.equal(field(res, 'x-late'), undefined);
      assert.equal(errors.length, 1);
    });
  });

  it('intercept() with a hold plan asks again once enough bytes are held, and at the end', async () => {
    const views: [number, boolean][] = [];
    const onHead: OnHead = (view: HeadView): BodyPlan => {
      views.push([view.bufferedBytes, view.ended]);
      return view.bufferedBytes < 10 && !view.ended ? { kind: 'hold', bytes: 10 } : PASS;
    };
    const next: Handler = async (req, res) => {
      res.write('abc');
      res.write('def');
      if (req.url === '/short') {
        res.end();
        return;
      }
      res.write('ghijkl');
      res.end('mn');
    };
    await withServer(wrap(next, onHead), undefined, async ({ port }) => {
      const long = (await exchange({ port }, get('/long'), { responses: 1 })).finals[0]!;
      assert.equal(long.body.toString(), 'abcdefghijklmn');
      assert.deepEqual(views, [
        [3, false],
        [12, false],
      ]);
      views.length = 0;
      const short = (await exchange({ port }, get('/short'), { responses: 1 })).finals[0]!;
      assert.equal(short.body.toString(), 'abcdef');
      // Ended inside the hold: the body goes out whole, with a Content-Length.
      assert.equal(short.framing, 'length');
      assert.deepEqual(views, [
        [3, false],
        [6, true],
      ]);
    });
  });

  it("intercept() with a replace plan sends the given body and drops next's", async () => {
    const next: Handler = (_req, res) => {
      res.statusCode = 404;
      res.write('next body ');
      res.end('more');
    };
    const onHead: OnHead = ({ res }) => {
      res.setHeader('Content-Length', '8');
      return { kind: 'replace', body: Buffer.from('replaced') };
    };
    await withServer(wrap(next, onHead), undefined, async ({ port }) => {
      const res = (await exchange({ port }, get('/'), { responses: 1 })).finals[0]!;
      assert.equal(res.status, 404);
      assert.equal(res.body.toString(), 'replaced');
    });
  });

  it('intercept() with a transform plan sends the stream output, chunked, and ends with it', async () => {
    const next: Handler = async (_req, res) => {
      res.write('hello ');
      await sleep(5);
      res.end('world');
    };
    const onHead: OnHead = ({ res }) => {
      res.removeHeader('content-length');
      return { kind: 'transform', stream: upperCase() };
    };
    await withServer(wrap(next, onHead), undefined, async ({ port }) => {
      const res = (await exchange({ port }, get('/'), { responses: 1 })).finals[0]!;
      assert.equal(res.framing, 'chunked');
      assert.equal(res.body.toString(), 'HELLO WORLD');
    });
  });

  for (const mode of ['pass', 'transform'] as const) {
    it(`intercept() keeps backpressure with a ${mode} plan: write() says wait while the client reads nothing`, async () => {
      const CHUNK = Buffer.alloc(64 * 1024, 'x');
      const CHUNKS = 128; // 8 MiB: far beyond what the socket buffers take
      let refusals = 0;
      const next: Handler = async (_req, res) => {
        for (let i = 0; i < CHUNKS; i++) {
          if (!res.write(CHUNK)) {
            refusals++;
            await res.drain();
          }
        }
        res.end();
      };
      const onHead: OnHead = () => (mode === 'pass' ? PASS : { kind: 'transform', stream: upperCase() });
      await withServer(wrap(next, onHead), undefined, async ({ port }) => {
        const client = await RawClient.connect({ port });
        try {
          client.socket.pause();
          await client.write(get('/'));
          await sleep(200);
          assert.ok(refusals > 0, 'write() returned false at least once');
          const before = refusals;
          await sleep(100);
          assert.equal(refusals, before, 'next waits instead of writing on');
          client.socket.resume();
          const res = (await client.responses(1, { timeoutMs: 10_000 }))[0]!;
          assert.equal(res.body.length, CHUNK.length * CHUNKS);
          assert.equal(res.body.indexOf(mode === 'pass' ? 'X' : 'x'), -1);
        } finally {
          client.destroy();
        }
      });
    });
  }

  it('intercept() passes interim responses and trailers through to the real response', async () => {
    const next: Handler = async (_req, res) => {
      res.writeInformational(103, { Link: '</a.css>; rel=preload' });
      res.addTrailers({ 'X-Checksum': 'abc' });
      res.write('part one, ');
      await sleep(5);
      res.end('part two');
    };
    await withServer(
      wrap(next, () => PASS),
      undefined,
      async ({ port }) => {
        const result = await exchange({ port }, get('/'), { responses: 1 });
        assert.equal(result.responses[0]!.status, 103);
        assert.equal(field(result.responses[0]!, 'link'), '</a.css>; rel=preload');
        const res = result.finals[0]!;
        assert.equal(res.body.toString(), 'part one, part two');
        assert.deepEqual(res.trailers, [['X-Checksum', 'abc']]);
      },
    );
  });

  it('intercept() runs onHead for a protocol switch, then hands the socket over', async () => {
    const next: Handler = async (_req, res) => {
      res.statusCode = 101;
      res.setHeader('Connection', 'Upgrade');
      res.setHeader('Upgrade', 'echo');
      const { socket, head } = await res.takeOver();
      socket.write(head);
      socket.pipe(socket);
    };
    const onHead: OnHead = ({ res }) => {
      res.setHeader('X-Seen', 'yes');
      return PASS;
    };
    await withServer(wrap(next, onHead), undefined, async ({ port }) => {
      const client = await RawClient.connect({ port });
      try {
        await client.write(get('/', 'Connection: Upgrade\r\nUpgrade: echo\r\n'));
        await client.until(() => client.text.includes('\r\n\r\n'), 3000, 'the 101');
        assert.match(client.text, /^HTTP\/1\.1 101 /);
        assert.match(client.text, /X-Seen: yes/);
        await client.write('ping');
        await client.until(() => client.text.endsWith('ping'), 3000, 'the echo');
      } finally {
        client.destroy();
      }
    });
  });

  it('intercept() lets the engine answer an error next throws before writing, on the untouched response', async () => {
    const next: Handler = async (_req, res) => {
      res.setHeader('X-Half-Done', '1');
      res.write('held');
      throw new Error('boom');
    };
    const onHead: OnHead = () => ({ kind: 'hold', bytes: 1000 });
    const reported: unknown[] = [];
    await withServer(wrap(next, onHead), { onError: (err) => reported.push(err) }, async ({ port }) => {
      const res = (await exchange({ port }, get('/'), { responses: 1 })).finals[0]!;
      assert.equal(res.status, 500);
      assert.equal(field(res, 'x-half-done'), undefined);
      assert.doesNotMatch(res.body.toString(), /held/);
      assert.equal(reported.length, 1);
    });
  });

  it('intercept() turns an onHead that throws into an error the engine answers', async () => {
    const next: Handler = (_req, res) => res.end('body');
    const onHead: OnHead = () => {
      throw new Error('onHead failed');
    };
    const reported: unknown[] = [];
    await withServer(wrap(next, onHead), { onError: (err) => reported.push(err) }, async ({ port }) => {
      const res = (await exchange({ port }, get('/'), { responses: 1 })).finals[0]!;
      assert.equal(res.status, 500);
      assert.equal((reported[0] as Error).message, 'onHead failed');
    });
  });

  it('intercept() cuts the connection when the transform fails after the head went out', async () => {
    let calls = 0;
    const failing = (): Transform =>
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          done(++calls === 1 ? null : new Error('transform failed'), chunk);
        },
      });
    const next: Handler = async (_req, res) => {
      res.write('first ');
      await sleep(20);
      res.write('second');
      await sleep(20);
      res.end();
    };
    const reported: unknown[] = [];
    const handler = wrap(next, () => ({ kind: 'transform', stream: failing() }));
    await withServer(handler, { onError: (err) => reported.push(err) }, async ({ port }) => {
      const client = await RawClient.connect({ port });
      try {
        await client.write(get('/'));
        await client.waitForClose();
        assert.match(client.text, /^HTTP\/1\.1 200 /);
        assert.match(client.text, /first /);
        assert.equal(client.parse().finals.length, 0, 'no complete response');
        assert.equal((reported[0] as Error).message, 'transform failed');
      } finally {
        client.destroy();
      }
    });
  });

  it('intercept() wakes a writer waiting in drain() when the client goes away', async () => {
    let finished = false;
    const next: Handler = async (_req, res) => {
      const chunk = Buffer.alloc(64 * 1024, 'y');
      for (let i = 0; i < 1000 && !finished; i++) if (!res.write(chunk)) await res.drain();
      finished = true;
      res.end();
    };
    const onHead: OnHead = () => ({ kind: 'transform', stream: upperCase() });
    await withServer(wrap(next, onHead), undefined, async ({ port }) => {
      const client = await RawClient.connect({ port });
      client.socket.pause();
      await client.write(get('/'));
      await sleep(100);
      client.destroy();
      const deadline = Date.now() + 3000;
      while (!finished && Date.now() < deadline) await sleep(10);
      assert.equal(finished, true);
    });
  });

  it('intercept() resolves only once a transform has sent its last byte', async () => {
    const next: Handler = (_req, res) => res.end('abc');
    const slow = (): Transform =>
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          setTimeout(() => done(null, chunk), 50);
        },
      });
    let resolved: (ended: boolean) => void = () => undefined;
    const endedWhenResolved = new Promise<boolean>((resolve) => {
      resolved = resolve;
    });
    const handler: Handler = async (req, res) => {
      await intercept(next, req, res, () => ({ kind: 'transform', stream: slow() }));
      resolved(res.writableEnded);
    };
    await withServer(handler, undefined, async ({ port }) => {
      const res = (await exchange({ port }, get('/'), { responses: 1 })).finals[0]!;
      assert.equal(res.body.toString(), 'abc');
      assert.equal(await endedWhenResolved, true);
    });
  });
});
