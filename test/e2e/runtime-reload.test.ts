/**
 * Runtime reload end to end: real listeners on 127.0.0.1, Node's fetch as the client. The app
 * builder here is a small one (each config answers with its own generation), so the test is about
 * the runtime: sockets kept, requests never dropped, old apps closed, listeners added and removed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config, ListenerConfig } from '../../src/config/model.js';
import type { App } from '../../src/runtime/runtime.js';
import { Runtime } from '../../src/runtime/runtime.js';

function listener(id: string, port = 0): ListenerConfig {
  return {
    id,
    bind: { kind: 'tcp', address: '127.0.0.1', port },
    tls: undefined,
    h2c: false,
    httpsRedirectPort: undefined,
  };
}

function config(generation: number, listeners: ListenerConfig[]): Config & { generation: number } {
  return {
    generation,
    listeners,
    sites: [],
    log: { format: 'off', file: undefined },
    status: { enabled: false, allow: [] },
    workers: 1,
    pidFile: undefined,
    stopTimeoutMs: 200,
    connectionsPerClient: 256,
    user: undefined,
  };
}

/** Apps answer `generation N` after `delayMs`, and record when they are closed. */
function builder(closed: number[], delayMs = 0) {
  return async (c: Config): Promise<App> => {
    const generation = (c as Config & { generation: number }).generation;
    if (generation < 0) throw new Error('this config cannot be built');
    return {
      handlerFor: () => async (_req, res) => {
        if (delayMs > 0) await sleep(delayMs);
        res.setHeader('content-type', 'text/plain');
        res.end(`generation ${generation}`);
      },
      reopenLog: () => {},
      close: async () => {
        closed.push(generation);
      },
    };
  };
}

function urlOf(runtime: Runtime, id: string): string {
  const entry = runtime.addresses().find((a) => a.id === id);
  if (entry === undefined || !('port' in entry.address)) throw new Error(`no listener ${id}`);
  return `http://127.0.0.1:${entry.address.port}/`;
}

test('20 reloads under load drop no request, keep the socket, and move every listener to the new config', async () => {
  const closed: number[] = [];
  const runtime = new Runtime(builder(closed, 5), () => {});
  const main = listener('main');
  await runtime.start(config(0, [main]));
  const url = urlOf(runtime, 'main');
  let failures = 0;
  let served = 0;
  let stop = false;
  const seen = new Set<string>();
  const clients = Array.from({ length: 8 }, async () => {
    while (!stop) {
      try {
        const res = await fetch(url);
        seen.add(await res.text());
        if (res.status === 200) served++;
        else failures++;
      } catch {
        failures++;
      }
    }
  });
  try {
    for (let generation = 1; generation <= 20; generation++) {
      await sleep(30);
      await runtime.reload(config(generation, [main]));
      assert.equal(urlOf(runtime, 'main'), url, 'the listener kept its port');
    }
    await sleep(50);
  } finally {
    stop = true;
    await Promise.all(clients);
  }
  assert.equal(failures, 0);
  assert.ok(served > 100, `only ${served} requests were served`);
  assert.ok(seen.has('generation 20'));
  assert.equal(await (await fetch(url)).text(), 'generation 20');
  await sleep(400);
  assert.ok(closed.length >= 19, `old apps closed after the stop timeout: ${closed.join(',')}`);
  await runtime.stop();
});

test('a config that fails to build changes nothing', async () => {
  const runtime = new Runtime(builder([]), () => {});
  await runtime.start(config(1, [listener('main')]));
  const url = urlOf(runtime, 'main');
  await assert.rejects(runtime.reload(config(-1, [listener('main'), listener('extra')])), /cannot be built/);
  assert.equal(await (await fetch(url)).text(), 'generation 1');
  assert.equal(runtime.addresses().length, 1);
  await runtime.stop();
});

test('a reload opens new listeners and closes removed ones', async () => {
  const runtime = new Runtime(builder([]), () => {});
  await runtime.start(config(1, [listener('a'), listener('b')]));
  const b = urlOf(runtime, 'b');
  await runtime.reload(config(2, [listener('a'), listener('c')]));
  assert.deepEqual(
    runtime
      .addresses()
      .map((a) => a.id)
      .sort(),
    ['a', 'c'],
  );
  assert.equal(await (await fetch(urlOf(runtime, 'c'))).text(), 'generation 2');
  await assert.rejects(fetch(b), 'the removed listener no longer accepts');
  await runtime.stop();
});
