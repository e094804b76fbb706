import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkConfig, loadConfig } from './load.js';

const example = fileURLToPath(new URL('../../examples/berth.yaml', import.meta.url));
const examples = fileURLToPath(new URL('../../examples/', import.meta.url));

test('examples/berth.yaml loads and `berth check` summarises it', async () => {
  assert.deepEqual(await checkConfig(example), {
    ok: true,
    summary: `${example}: 2 listeners, 3 sites, 7 routes`,
  });
});

test('examples/berth.yaml shows every handler, every middleware and both cache stores', async () => {
  const config = await loadConfig(example);
  const routes = config.sites.flatMap((s) => s.routes);
  assert.deepEqual([...new Set(routes.map((r) => r.handler.kind))].sort(), [
    'proxy',
    'redirect',
    'respond',
    'static',
  ]);
  assert.deepEqual([...new Set(routes.flatMap((r) => r.middleware.map((m) => m.kind)))].sort(), [
    'basic-auth',
    'compress',
    'cors',
    'headers',
    'rate-limit',
  ]);
  assert.deepEqual(
    routes.flatMap((r) => (r.cache === undefined ? [] : [r.cache.dir])),
    [`${examples}cache/api`, undefined],
  );
});

test('examples/berth.yaml has an HTTP and a local-CA HTTPS listener, two named sites, a default site and error pages', async () => {
  const config = await loadConfig(example);
  assert.deepEqual(
    config.listeners.map((l) => [l.id, l.tls?.kind]),
    [
      ['0.0.0.0:8080', undefined],
      ['0.0.0.0:8443', 'local'],
    ],
  );
  assert.deepEqual(
    config.sites.map((s) => s.hosts),
    [['app.example.test', '*.app.example.test'], ['files.example.test'], []],
  );
  assert.deepEqual(config.sites[2]!.hosts, []);
  assert.equal(config.sites[0]!.errorPages[404], `${examples}pages/404.html`);
  assert.equal(config.workers, 'auto');
  assert.deepEqual(config.status.allow, ['127.0.0.0/8', '::1', '10.0.0.0/8']);
});
