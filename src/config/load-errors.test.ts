import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from './load.js';

/** The problem lines parseConfig() reports for these YAML lines, as if read from `berth.yaml`. */
function problems(...lines: string[]): string[] {
  try {
    parseConfig(`${lines.join('\n')}\n`, 'berth.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.problems.length, err.message.split('\n').length);
    return err.message.split('\n');
  }
  assert.fail('expected a ConfigError');
}

/** A file whose one site has these route lines (route items start on line 3, column 7). */
const routes = (...lines: string[]) => problems('sites:', '  - routes:', ...lines.map((l) => `      ${l}`));

test('a YAML syntax error is reported at its line and column', () => {
  assert.deepEqual(problems('sites:', '  - routes: [', 'workers: 1'), [
    'berth.yaml:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]',
  ]);
});

test('a key given twice is a YAML error at the second one', () => {
  assert.deepEqual(problems('workers: 1', 'workers: 2', 'sites: []'), [
    'berth.yaml:2:1: Map keys must be unique',
  ]);
});

test('an unquoted *.wildcard host is explained as the YAML alias it became', () => {
  assert.deepEqual(problems('sites:', '  - hosts: [*.example.com]', '    routes: [{ respond: 204 }]'), [
    "berth.yaml:2:13: unknown alias *.example.com; quote text that starts with * ('*.example.com')",
  ]);
});

test('an alias bomb is refused before it expands', () => {
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 8; i++) {
    const prev = String.fromCharCode(96 + i);
    const next = String.fromCharCode(97 + i);
    bomb.push(
      `${next}: &${next} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`,
    );
  }
  const [line] = problems(...bomb);
  assert.match(line!, /^berth\.yaml:1:1: Excessive alias count/);
});

test('an empty file names what is missing', () => {
  assert.deepEqual(problems(''), ['berth.yaml:1:1: sites: missing; expected a list']);
});

test('a file that is not a map says so', () => {
  assert.deepEqual(problems('- 1'), [
    'berth.yaml:1:1: expected a map with listeners, sites, log, status, workers, pidFile, stopTimeout, connectionsPerClient, user, got a list',
  ]);
});

test('an unknown key points at the key, lists the keys allowed there and guesses the one meant', () => {
  assert.deepEqual(routes('- match: /', '  prox: http://127.0.0.1:3000', '  proxy: http://127.0.0.1:3000'), [
    'berth.yaml:4:9: sites[0].routes[0].prox: unknown key "prox" (did you mean proxy?); ' +
      'allowed here: match, middleware, cache, static, proxy, redirect, respond',
  ]);
  assert.deepEqual(problems('stop-timeout: 5', 'sites: [{ routes: [{ respond: 204 }] }]'), [
    'berth.yaml:1:1: stop-timeout: unknown key "stop-timeout" (did you mean stopTimeout?); ' +
      'allowed here: listeners, sites, log, status, workers, pidFile, stopTimeout, connectionsPerClient, user',
  ]);
});

test('a route without a handler is reported at the route, under the key path handler', () => {
  assert.deepEqual(
    routes('- match: /api/', '  proxy: http://127.0.0.1:3000', '- match: /', '  cache: true'),
    ['berth.yaml:5:9: sites[0].routes[1].handler: expected exactly one of static, proxy, redirect, respond'],
  );
});

test('a route with two handlers names both', () => {
  assert.deepEqual(routes('- static: ./public', '  respond: 204'), [
    'berth.yaml:3:9: sites[0].routes[0].handler: expected exactly one of static, proxy, redirect, respond; ' +
      'got static and respond',
  ]);
});

test('a value of the wrong kind says what was expected and what was found', () => {
  assert.deepEqual(problems('listeners: [{ port: "80" }]', 'sites: [{ routes: [{ respond: 204 }] }]'), [
    'berth.yaml:1:21: listeners[0].port: expected a port number (1 to 65535), got "80"',
  ]);
  assert.deepEqual(routes('- static: { root: ., spa: yes }'), [
    'berth.yaml:3:33: sites[0].routes[0].static.spa: expected true or false, got "yes"',
  ]);
});

test('an empty value points at its key', () => {
  assert.deepEqual(routes('- match: /', '  proxy:'), [
    'berth.yaml:4:9: sites[0].routes[0].proxy: expected a URL, a list of URLs or { to, ... }, got nothing',
  ]);
});

test('a missing required key points at the map it belongs in', () => {
  assert.deepEqual(routes('- proxy: { lb: least-conn }'), [
    'berth.yaml:3:16: sites[0].routes[0].proxy.to: missing; expected an upstream URL or a list of them',
  ]);
});

test('ports, statuses and enums out of range name what is allowed', () => {
  assert.deepEqual(problems('listeners: [70000]', 'sites: [{ routes: [{ respond: 204 }] }]'), [
    'berth.yaml:1:13: listeners[0]: expected a port number (1 to 65535), got 70000',
  ]);
  assert.deepEqual(routes("- redirect: { to: 'https://{host}{uri}', status: 305 }"), [
    'berth.yaml:3:56: sites[0].routes[0].redirect.status: expected 301, 302, 303, 307 or 308, got 305',
  ]);
  assert.deepEqual(routes('- respond: 99'), [
    'berth.yaml:3:18: sites[0].routes[0].respond: expected a status from 200 to 599, got 99',
  ]);
  assert.deepEqual(routes('- proxy: { to: "http://a:1", lb: random }'), [
    'berth.yaml:3:40: sites[0].routes[0].proxy.lb: expected round-robin, least-conn, ip-hash, got "random"',
  ]);
});

test('upstream URLs, CIDRs, hosts, origins and redirect placeholders are checked with a reason', () => {
  assert.deepEqual(routes('- proxy: [http://a:1, http://b:2/app]'), [
    'berth.yaml:3:29: sites[0].routes[0].proxy[1]: expected an upstream URL (http://host:port, https://host, ' +
      'unix:/path), got "http://b:2/app" (no path, query or fragment (requests keep their own target))',
  ]);
  assert.deepEqual(
    problems('sites: [{ routes: [{ respond: 204 }] }]', 'status: { allow: [127.0.0.1, 10.0.0.0/33] }'),
    [
      'berth.yaml:2:30: status.allow[1]: expected an IP address or CIDR block (10.0.0.0/8, ::1/128), got "10.0.0.0/33"',
    ],
  );
  assert.deepEqual(
    problems('sites:', '  - hosts: [a.test, "a.*.test", b.test:80]', '    routes: [{ respond: 204 }]'),
    [
      'berth.yaml:2:21: sites[0].hosts[1]: expected a host name (example.com, *.example.com) or an IP address, got "a.*.test"',
      'berth.yaml:2:33: sites[0].hosts[2]: expected a host name (example.com, *.example.com) or an IP address, ' +
        'got "b.test:80" (no port here: ports belong to listeners)',
    ],
  );
  assert.deepEqual(routes('- middleware: [{ cors: { origins: [https://a.test/app] } }]', '  respond: 204'), [
    'berth.yaml:3:42: sites[0].routes[0].middleware[0].cors.origins[0]: expected * or an origin like ' +
      'https://app.example.com, got "https://a.test/app"',
  ]);
  assert.deepEqual(routes("- redirect: 'https://{hostname}{uri}'"), [
    'berth.yaml:3:19: sites[0].routes[0].redirect: expected a URL or path, e.g. https://{host}{uri}, ' +
      'got "https://{hostname}{uri}" (unknown placeholder {hostname} (known: {scheme} {host} {port} {path} {query} {uri}))',
  ]);
});

test('header names and values that could not be sent are refused', () => {
  assert.deepEqual(
    routes(
      '- middleware: [{ headers: { set: { "X Bad": a, X-Ok: "a\\r\\nInjected: 1" } } }]',
      '  respond: 204',
    ),
    [
      'berth.yaml:3:42: sites[0].routes[0].middleware[0].headers.set["X Bad"]: expected a header name (letters, digits and !#$%&\'*+-.^_`|~), e.g. X-Frame-Options',
      'berth.yaml:3:60: sites[0].routes[0].middleware[0].headers.set.X-Ok: a header value cannot hold line breaks or other control characters',
    ],
  );
});

test('sizes and durations that do not parse show the forms that do', () => {
  assert.deepEqual(routes('- static: { root: ., maxUpload: 1 gig, maxAge: soon }'), [
    'berth.yaml:3:39: sites[0].routes[0].static.maxUpload: expected a size like 512k, 10m or 1g, got "1 gig"',
    'berth.yaml:3:54: sites[0].routes[0].static.maxAge: expected seconds, or a duration like 500ms, 30s, 5m, got "soon"',
  ]);
});

test('an error page for a status that is not an error points at the status', () => {
  assert.deepEqual(
    problems('sites:', '  - errorPages: { 200: ./ok.html }', '    routes: [{ respond: 204 }]'),
    ['berth.yaml:2:19: sites[0].errorPages.200: expected an error status from 400 to 599'],
  );
});

test('a second default site is refused where it starts', () => {
  assert.deepEqual(
    problems('sites:', '  - routes: [{ respond: 200 }]', '  - hsts: true', '    routes: [{ respond: 404 }]'),
    ['berth.yaml:3:5: sites[1]: sites[0] is already the default site (no hosts); give this one hosts'],
  );
});

test('a host in two sites is refused at its second place', () => {
  assert.deepEqual(
    problems(
      'sites:',
      '  - { hosts: [a.test, b.test], routes: [{ respond: 200 }] }',
      '  - { hosts: [c.test, B.test], routes: [{ respond: 200 }] }',
    ),
    ['berth.yaml:3:23: sites[1].hosts[1]: b.test is already a host of sites[0]'],
  );
});

test('two listeners on one address are refused, and so is tls: true when no site has certificates', () => {
  assert.deepEqual(
    problems(
      'listeners:',
      '  - 8080',
      '  - { port: 8080, address: 127.0.0.1 }',
      '  - { port: 8443, tls: true }',
      'sites: [{ routes: [{ respond: 204 }] }]',
    ),
    [
      'berth.yaml:3:5: listeners[1]: listeners[0] already listens on 127.0.0.1:8080',
      "berth.yaml:4:24: listeners[2].tls: tls: true uses the sites' certificates, and no site has any " +
        '(use auto or { cert, key })',
    ],
  );
});

test('a listener with both a port and a unix socket is refused', () => {
  assert.deepEqual(
    problems('listeners: [{ port: 80, unix: /run/b.sock }]', 'sites: [{ routes: [{ respond: 204 }] }]'),
    ['berth.yaml:1:13: listeners[0]: expected exactly one of port, unix, systemd; got port and unix'],
  );
});

test('uploads without basicAuth are refused unless declared open', () => {
  assert.deepEqual(routes('- static: { root: ., upload: true }'), [
    'berth.yaml:3:36: sites[0].routes[0].static.upload: upload needs a basicAuth middleware on this route ' +
      '(or unsafeOpenUploads: true)',
  ]);
  assert.doesNotThrow(() =>
    parseConfig(
      'sites: [{ routes: [{ static: { root: ., upload: true, unsafeOpenUploads: true } }] }]',
      'b.yaml',
    ),
  );
});

test('a route hidden behind an earlier one is reported at its match', () => {
  assert.deepEqual(routes('- match: /api/', '  respond: 200', '- match: /api/v2/', '  respond: 201'), [
    'berth.yaml:5:16: sites[0].routes[1].match: never reached: routes[0] (match: /api/) takes every path first',
  ]);
  assert.deepEqual(routes('- respond: 200', '- match: /x', '  respond: 201'), [
    'berth.yaml:4:16: sites[0].routes[1].match: never reached: routes[0] (match: /) takes every path first',
  ]);
});

test('contradictions inside one setting are refused: credentials with *, a body on 204, basicAuth with no users', () => {
  assert.deepEqual(
    routes(
      '- middleware:',
      '    - cors: { credentials: true }',
      '    - basicAuth: { realm: x }',
      '  respond: { status: 204, body: hi }',
    ),
    [
      'berth.yaml:4:19: sites[0].routes[0].middleware[0].cors.origins: credentials: true needs explicit origins, not *',
      'berth.yaml:5:24: sites[0].routes[0].middleware[1].basicAuth: expected exactly one of users, htpasswd',
      'berth.yaml:6:39: sites[0].routes[0].respond.body: a 204 response has no body',
    ],
  );
});

test('every problem in a file is reported, in file order', () => {
  const lines = problems('workers: 0', 'sites:', '  - routes: []', 'log: xml');
  assert.deepEqual(
    lines.map((l) => l.split(': ')[0]),
    ['berth.yaml:1:10', 'berth.yaml:3:13', 'berth.yaml:4:6'],
  );
});
