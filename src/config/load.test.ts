import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ConfigError, checkConfig, loadConfig, parseConfig } from './load.js';
import type { Config, HandlerConfig, RouteConfig } from './model.js';

/** Lines joined, so each test's line numbers can be counted at a glance. */
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;
const FILE = '/etc/berth/berth.yaml';
const load = (...lines: string[]): Config => parseConfig(yaml(...lines), FILE);
/** The only route of a one-site, one-route file. */
const onlyRoute = (...routeLines: string[]): RouteConfig =>
  load('sites:', '  - routes:', ...routeLines.map((l) => `      ${l}`)).sites[0]!.routes[0]!;
const handlerOf = (...routeLines: string[]): HandlerConfig => onlyRoute(...routeLines).handler;

test('parseConfig() fills every default around the smallest useful file', () => {
  const config = load('sites:', '  - routes:', '      - static: ./public');
  assert.deepEqual(config, {
    listeners: [
      {
        id: '127.0.0.1:8080',
        bind: { kind: 'tcp', address: '127.0.0.1', port: 8080 },
        tls: undefined,
        h2c: false,
        httpsRedirectPort: undefined,
      },
    ],
    sites: [
      {
        hosts: [],
        certificates: [],
        routes: [
          {
            match: { kind: 'prefix', prefix: '/' },
            middleware: [],
            cache: undefined,
            handler: {
              kind: 'static',
              root: '/etc/berth/public',
              maxAgeSeconds: undefined,
              spa: false,
              listing: true,
              dotfiles: 'ignore',
              followSymlinks: false,
              compress: true,
              cors: false,
              upload: false,
              maxUploadBytes: 1024 ** 3,
              fallback: undefined,
            },
          },
        ],
        errorPages: {},
        hsts: false,
      },
    ],
    log: { format: 'combined', file: undefined },
    status: { enabled: true, allow: ['127.0.0.0/8', '::1/128'] },
    workers: 1,
    pidFile: undefined,
    stopTimeoutMs: 10_000,
    connectionsPerClient: 256,
    user: undefined,
  });
});

test('parseConfig() deep-freezes the config it returns', () => {
  const config = load('sites:', '  - routes:', '      - static: ./public');
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.listeners[0]!.bind));
  assert.ok(Object.isFrozen(config.sites[0]!.routes[0]!.handler));
  assert.ok(Object.isFrozen(config.status.allow));
});

test('parseConfig() resolves relative paths against the config file folder, absolute ones as given', () => {
  const config = load(
    'listeners: [{ unix: run/berth.sock }]',
    'sites:',
    '  - errorPages: { 404: ./pages/404.html, 503: /srv/503.html }',
    '    certificates: [{ cert: tls/a.pem, key: tls/a.key, keyPassFile: ../secret }]',
    '    routes:',
    '      - cache: { dir: ../cache }',
    '        static: /srv/www',
    'log: { file: logs/access.log }',
    'pidFile: berth.pid',
  );
  const site = config.sites[0]!;
  assert.deepEqual(config.listeners[0]!.bind, { kind: 'unix', path: '/etc/berth/run/berth.sock' });
  assert.equal(config.listeners[0]!.id, '/etc/berth/run/berth.sock');
  assert.deepEqual(site.errorPages, { 404: '/etc/berth/pages/404.html', 503: '/srv/503.html' });
  assert.deepEqual(site.certificates, [
    { cert: '/etc/berth/tls/a.pem', key: '/etc/berth/tls/a.key', keyPassFile: '/etc/secret' },
  ]);
  assert.equal(site.routes[0]!.cache?.dir, '/etc/cache');
  assert.equal((site.routes[0]!.handler as { root: string }).root, '/srv/www');
  assert.equal(config.log.file, '/etc/berth/logs/access.log');
  assert.equal(config.pidFile, '/etc/berth/berth.pid');
});

test('parseConfig() converts sizes to bytes and durations to milliseconds or seconds', () => {
  const config = load(
    'sites:',
    '  - routes:',
    '      - match: /up/',
    '        cache: { size: 64 }',
    '        static: { root: ., maxAge: 1h, maxUpload: 10m }',
    '      - match: /big/',
    '        cache: { size: 2g }',
    '        middleware: [{ compress: { minSize: 2k } }, { cors: { maxAge: 2m } }]',
    '        proxy: { to: http://a:1, timeout: 1.5, health: { path: /h, interval: 500ms } }',
    'stopTimeout: 2m',
  );
  const [up, big] = config.sites[0]!.routes;
  assert.equal(up!.cache?.sizeBytes, 64 * 1024 * 1024, 'a bare cache size is MiB');
  assert.equal(big!.cache?.sizeBytes, 2 * 1024 ** 3);
  assert.deepEqual(
    [
      up!.handler.kind === 'static' && up!.handler.maxAgeSeconds,
      up!.handler.kind === 'static' && up!.handler.maxUploadBytes,
    ],
    [3600, 10 * 1024 * 1024],
  );
  assert.deepEqual(big!.middleware[0], { kind: 'compress', minBytes: 2048 });
  assert.equal(big!.middleware[1]!.kind === 'cors' && big!.middleware[1]!.maxAgeSeconds, 120);
  assert.equal(big!.handler.kind === 'proxy' && big!.handler.timeoutMs, 1500);
  assert.deepEqual(big!.handler.kind === 'proxy' && big!.handler.health, {
    path: '/h',
    intervalMs: 500,
    status: 200,
  });
  assert.equal(config.stopTimeoutMs, 120_000);
});

test('parseConfig() reads the listener forms: a port, tcp, unix, systemd, and IPv6 ids in brackets', () => {
  const config = load(
    'listeners:',
    '  - 80',
    '  - { port: 443, address: "::", h2c: true }',
    '  - { port: 8080, address: 0:0:0:0:0:0:0:1 }',
    '  - { systemd: 2 }',
    'sites: [{ routes: [{ respond: 204 }] }]',
  );
  assert.deepEqual(
    config.listeners.map((l) => [l.id, l.bind, l.h2c]),
    [
      ['127.0.0.1:80', { kind: 'tcp', address: '127.0.0.1', port: 80 }, false],
      ['[::]:443', { kind: 'tcp', address: '::', port: 443 }, true],
      ['[::1]:8080', { kind: 'tcp', address: '::1', port: 8080 }, false],
      ['systemd:2', { kind: 'systemd', index: 2 }, false],
    ],
  );
});

test('parseConfig() reads the local-CA and certificate-file forms of tls', () => {
  const config = load(
    'listeners:',
    '  - { port: 1, tls: auto }',
    '  - { port: 2, tls: { hosts: [192.168.1.5, a.test] } }',
    '  - { port: 3, tls: { cert: c.pem, key: k.pem } }',
    '  - { port: 4, tls: [{ cert: c.pem, key: k.pem }, { cert: d.pem, key: e.pem }] }',
    '  - { port: 5, tls: true }',
    '  - { port: 6, tls: false }',
    'sites:',
    '  - { hosts: [A.test, "*.b.test"], routes: [{ respond: 204 }] }',
    '  - { hosts: c.test, certificates: [{ cert: s.pem, key: s.key }], routes: [{ respond: 204 }] }',
  );
  const tls = config.listeners.map((l) => l.tls);
  const cert = (c: string, k: string) => ({
    cert: `/etc/berth/${c}`,
    key: `/etc/berth/${k}`,
    keyPassFile: undefined,
  });
  assert.deepEqual(tls, [
    { kind: 'local', hosts: [] },
    { kind: 'local', hosts: ['192.168.1.5', 'a.test'] },
    { kind: 'files', certificates: [cert('c.pem', 'k.pem')] },
    { kind: 'files', certificates: [cert('c.pem', 'k.pem'), cert('d.pem', 'e.pem')] },
    { kind: 'files', certificates: [] },
    undefined,
  ]);
  assert.deepEqual(config.sites[0]!.hosts, ['a.test', '*.b.test'], 'host names are lower-cased');
});

test('parseConfig() expands the short forms of static, proxy, redirect and respond', () => {
  assert.equal(handlerOf('- static: www').kind, 'static');
  assert.deepEqual(handlerOf('- proxy: http://127.0.0.1:3000'), {
    kind: 'proxy',
    to: ['http://127.0.0.1:3000'],
    lb: 'round-robin',
    health: undefined,
    trustProxy: [],
    pseudonym: undefined,
    timeoutMs: undefined,
  });
  const list = handlerOf('- proxy: [http://a:1, https://b, unix:/run/app.sock]');
  assert.deepEqual(list.kind === 'proxy' && list.to, ['http://a:1', 'https://b', 'unix:/run/app.sock']);
  assert.deepEqual(handlerOf("- redirect: 'https://{host}{uri}'"), {
    kind: 'redirect',
    status: 308,
    to: 'https://{host}{uri}',
  });
  assert.deepEqual(handlerOf('- respond: 204'), { kind: 'respond', status: 204, body: '', headers: {} });
  assert.deepEqual(handlerOf('- respond: { body: hi }'), {
    kind: 'respond',
    status: 200,
    body: 'hi',
    headers: {},
  });
});

test('parseConfig() reads a proxy object with every option', () => {
  const handler = handlerOf(
    '- proxy:',
    '    to: [http://a:1, http://b:2]',
    '    lb: ip-hash',
    '    health: /healthz',
    '    trustProxy: [10.0.0.0/8, "::1"]',
    '    pseudonym: edge-1',
  );
  assert.deepEqual(handler, {
    kind: 'proxy',
    to: ['http://a:1', 'http://b:2'],
    lb: 'ip-hash',
    health: { path: '/healthz', intervalMs: 5000, status: 200 },
    trustProxy: ['10.0.0.0/8', '::1'],
    pseudonym: 'edge-1',
    timeoutMs: undefined,
  });
});

test('parseConfig() maps every middleware to its model kind, in order', () => {
  const route = onlyRoute(
    '- middleware:',
    '    - headers: { set: { X-A: "1" }, remove: [Server] }',
    '    - basicAuth: { users: ["ann:secret"], methods: [put, PROPFIND] }',
    '    - basicAuth: { realm: files, htpasswd: ./users }',
    '    - cors: true',
    '    - compress: true',
    '    - rateLimit: { perSecond: 0.5 }',
    '  cache: true',
    '  static: .',
  );
  assert.deepEqual(route.middleware, [
    { kind: 'headers', set: { 'X-A': '1' }, add: {}, remove: ['Server'] },
    {
      kind: 'basic-auth',
      realm: 'berth',
      users: { kind: 'plain', pairs: ['ann:secret'] },
      methods: ['PUT', 'PROPFIND'],
    },
    {
      kind: 'basic-auth',
      realm: 'files',
      users: { kind: 'htpasswd', file: '/etc/berth/users' },
      methods: [],
    },
    {
      kind: 'cors',
      origins: ['*'],
      methods: ['GET', 'HEAD', 'POST'],
      headers: [],
      credentials: false,
      maxAgeSeconds: 600,
    },
    { kind: 'compress', minBytes: 1024 },
    { kind: 'rate-limit', perSecond: 0.5, burst: 1 },
  ]);
  assert.deepEqual(route.cache, { sizeBytes: 256 * 1024 * 1024, dir: undefined });
});

test('parseConfig() keeps IPv6 site hosts in brackets, as a Host header carries them', () => {
  const config = load(
    'sites:',
    '  - hosts: ["::1", "[0:0:0:0:0:0:0:2]", 10.0.0.1]',
    '    routes: [{ respond: 204 }]',
  );
  assert.deepEqual(config.sites[0]!.hosts, ['[::1]', '[::2]', '10.0.0.1']);
});

test('parseConfig() follows YAML anchors, aliases and merge keys', () => {
  const config = load(
    'sites:',
    '  - routes:',
    '      - &api { match: /api/, cache: true, proxy: "http://127.0.0.1:3000" }',
    '      - { <<: *api, match: /v2/, proxy: "http://127.0.0.1:3001" }',
  );
  const [api, v2] = config.sites[0]!.routes;
  assert.deepEqual(api!.cache, v2!.cache);
  assert.deepEqual(v2!.match, { kind: 'prefix', prefix: '/v2/' });
  assert.deepEqual(v2!.handler.kind === 'proxy' && v2!.handler.to, ['http://127.0.0.1:3001']);
});

test('parseConfig() tells prefixes from globs', () => {
  const config = load(
    'sites:',
    '  - routes:',
    '      - { match: /health, respond: 200 }',
    '      - { match: /assets/**/*.css, respond: 200 }',
    '      - { match: /file?.txt, respond: 200 }',
    '      - { match: /api/, respond: 200 }',
  );
  assert.deepEqual(
    config.sites[0]!.routes.map((r) => r.match),
    [
      { kind: 'prefix', prefix: '/health' },
      { kind: 'glob', glob: '/assets/**/*.css' },
      { kind: 'glob', glob: '/file?.txt' },
      { kind: 'prefix', prefix: '/api/' },
    ],
  );
});

test('parseConfig() reads the short and long forms of log, status and workers', () => {
  const short = load(
    'sites: [{ routes: [{ respond: 204 }] }]',
    'log: json',
    'status: false',
    'workers: auto',
  );
  assert.deepEqual(short.log, { format: 'json', file: undefined });
  assert.deepEqual(short.status, { enabled: false, allow: ['127.0.0.0/8', '::1/128'] });
  assert.equal(short.workers, 'auto');
  const long = load(
    'sites: [{ routes: [{ respond: 204 }] }]',
    'status: { allow: [10.0.0.0/8] }',
    'workers: 4',
    'user: www-data',
  );
  assert.deepEqual(long.status, { enabled: true, allow: ['10.0.0.0/8'] });
  assert.equal(long.workers, 4);
  assert.equal(long.user, 'www-data');
});

test('parseConfig() lets a later route repeat an earlier match only in another site', () => {
  const config = load(
    'sites:',
    '  - { hosts: [a.test], routes: [{ match: /api/, respond: 200 }, { match: /, respond: 404 }] }',
    '  - { routes: [{ match: /api/, respond: 200 }, { match: /apiary, respond: 200 }] }',
  );
  assert.equal(config.sites.length, 2);
});

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('loadConfig() reads a file and resolves its paths against its folder', async () => {
  const file = join(dir, 'berth.yaml');
  await writeFile(file, yaml('sites:', '  - routes:', '      - static: ./public'));
  const config = await loadConfig(file);
  assert.equal((config.sites[0]!.routes[0]!.handler as { root: string }).root, join(dir, 'public'));
});

test('loadConfig() reports a missing file as a ConfigError at 1:1', async () => {
  const file = join(dir, 'nope.yaml');
  await assert.rejects(loadConfig(file), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.message, `${file}:1:1: cannot read: no such file`);
    return true;
  });
});

test('checkConfig() summarises a good file in one line', async () => {
  const file = join(dir, 'two.yaml');
  await writeFile(
    file,
    yaml(
      'listeners: [8080, { port: 8443, tls: auto }]',
      'sites:',
      '  - { hosts: a.test, routes: [{ match: /api/, proxy: "http://127.0.0.1:3000" }, { static: . }] }',
      '  - { routes: [{ respond: 404 }] }',
    ),
  );
  assert.deepEqual(await checkConfig(file), { ok: true, summary: `${file}: 2 listeners, 2 sites, 3 routes` });
});

test('checkConfig() returns every problem of a bad file instead of throwing', async () => {
  const file = join(dir, 'bad.yaml');
  await writeFile(file, yaml('sites:', '  - routes:', '      - static: 5', 'workers: none'));
  const result = await checkConfig(file);
  assert.equal(result.ok, false);
  assert.deepEqual(!result.ok && result.message.split('\n'), [
    `${file}:3:17: sites[0].routes[0].static: expected a folder or { root, ... }, got 5`,
    `${file}:4:10: workers: expected a number of workers or auto, got "none"`,
  ]);
});
