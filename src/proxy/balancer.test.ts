import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EJECT_MS, MAX_EJECT_MS, parseUpstreamUrl, type Upstream, UpstreamGroup } from './balancer.js';

const URLS = ['http://127.0.0.1:3001', 'http://127.0.0.1:3002', 'http://127.0.0.1:3003'];

function clockedGroup(policy: 'round-robin' | 'least-conn' | 'ip-hash' = 'round-robin') {
  const clock = { t: 1_000_000 };
  const group = new UpstreamGroup(URLS, { policy, now: () => clock.t });
  const [a, b, c] = group.upstreams as [Upstream, Upstream, Upstream];
  return { group, clock, a, b, c };
}

function names(picks: readonly (Upstream | undefined)[]): string[] {
  return picks.map((u) => u?.name ?? 'none');
}

test('parseUpstreamUrl() reads http, https and unix addresses with their default ports', () => {
  assert.deepEqual(parseUpstreamUrl('http://127.0.0.1:3000'), {
    name: 'http://127.0.0.1:3000',
    target: { kind: 'tcp', host: '127.0.0.1', port: 3000, tls: false },
  });
  assert.deepEqual(parseUpstreamUrl('https://app.example'), {
    name: 'https://app.example:443',
    target: { kind: 'tcp', host: 'app.example', port: 443, tls: true, servername: 'app.example' },
  });
  assert.deepEqual(parseUpstreamUrl('http://app.example/'), {
    name: 'http://app.example:80',
    target: { kind: 'tcp', host: 'app.example', port: 80, tls: false },
  });
  assert.deepEqual(parseUpstreamUrl('unix:/run/app.sock'), {
    name: 'unix:/run/app.sock',
    target: { kind: 'unix', path: '/run/app.sock' },
  });
});

test('parseUpstreamUrl() unbrackets IPv6 hosts and sends no SNI for an address', () => {
  assert.deepEqual(parseUpstreamUrl('https://[::1]:8443'), {
    name: 'https://[::1]:8443',
    target: { kind: 'tcp', host: '::1', port: 8443, tls: true },
  });
  assert.deepEqual(parseUpstreamUrl('https://10.0.0.1').target, {
    kind: 'tcp',
    host: '10.0.0.1',
    port: 443,
    tls: true,
  });
});

test('parseUpstreamUrl() refuses other schemes, paths, queries, userinfo and empty unix paths', () => {
  for (const bad of [
    'ftp://h',
    'http://h/app',
    'http://h/?x=1',
    'http://u:p@h',
    'unix:',
    'not a url',
    'h:3000',
  ]) {
    assert.throws(() => parseUpstreamUrl(bad), TypeError, bad);
  }
});

test('UpstreamGroup refuses an empty list and duplicate upstreams', () => {
  assert.throws(() => new UpstreamGroup([]), RangeError);
  assert.throws(() => new UpstreamGroup(['http://h:1', 'http://h:1/']), RangeError);
});

test('round-robin takes each upstream in turn', () => {
  const { group } = clockedGroup();
  const picks = Array.from({ length: 6 }, () => group.pick('10.0.0.1'));
  assert.deepEqual(names(picks), [...URLS, ...URLS]);
});

test('pick() never returns an excluded upstream, and undefined when all are excluded', () => {
  const { group, a, b, c } = clockedGroup();
  for (let i = 0; i < 6; i++) assert.notEqual(group.pick('x', new Set([a])), a);
  assert.equal(group.pick('x', new Set([a, b])), c);
  assert.equal(group.pick('x', new Set([a, b, c])), undefined);
});

test('a failure ejects an upstream for EJECT_MS; it comes back after', () => {
  const { group, clock, b } = clockedGroup();
  group.reportFailure(b);
  assert.equal(group.usable(b), false);
  const picks = Array.from({ length: 4 }, () => group.pick('x'));
  assert.ok(!picks.includes(b));
  clock.t += EJECT_MS - 1;
  assert.equal(group.usable(b), false);
  clock.t += 1;
  assert.equal(group.usable(b), true);
  const later = Array.from({ length: 3 }, () => group.pick('x'));
  assert.ok(later.includes(b));
});

test('repeated failures double the ejection up to MAX_EJECT_MS; a success resets it', () => {
  const { group, clock, a } = clockedGroup();
  let expected = EJECT_MS;
  for (let i = 0; i < 6; i++) {
    group.reportFailure(a);
    clock.t += expected - 1;
    assert.equal(group.usable(a), false, `still ejected just before ${expected} ms`);
    clock.t += 1;
    assert.equal(group.usable(a), true, `back after ${expected} ms`);
    expected = Math.min(expected * 2, MAX_EJECT_MS);
  }
  assert.equal(expected, MAX_EJECT_MS);
  group.reportSuccess(a);
  group.reportFailure(a);
  clock.t += EJECT_MS;
  assert.equal(group.usable(a), true, 'a success starts the doubling over');
});

test('failures reported while already ejected do not lengthen the ejection', () => {
  const { group, clock, a } = clockedGroup();
  for (let i = 0; i < 20; i++) group.reportFailure(a);
  assert.equal(group.status()[0]?.failures, 1);
  clock.t += EJECT_MS;
  assert.equal(group.usable(a), true);
});

test('a success clears an ejection at once', () => {
  const { group, a } = clockedGroup();
  group.reportFailure(a);
  group.reportSuccess(a);
  assert.equal(group.usable(a), true);
});

test('with every upstream ejected, pick() tries the one ejected longest ago', () => {
  const { group, clock, a, b, c } = clockedGroup();
  group.reportFailure(b);
  clock.t += 100;
  group.reportFailure(c);
  clock.t += 100;
  group.reportFailure(a);
  assert.equal(group.pick('x'), b);
  assert.equal(group.pick('x', new Set([b])), c);
});

test('an upstream marked down is skipped until marked up', () => {
  const { group, a, b, c } = clockedGroup();
  group.markDown(b);
  const picks = Array.from({ length: 4 }, () => group.pick('x'));
  assert.deepEqual(names(picks), [a.name, c.name, a.name, c.name]);
  group.markUp(b);
  assert.ok(Array.from({ length: 3 }, () => group.pick('x')).includes(b));
});

test('least-conn prefers the upstream with the fewest exchanges in flight', () => {
  const { group, a, b, c } = clockedGroup('least-conn');
  group.begin(a);
  group.begin(a);
  group.begin(c);
  assert.equal(group.pick('x'), b);
  group.begin(b);
  group.begin(b);
  assert.equal(group.pick('x'), c);
  group.end(a);
  group.end(a);
  assert.equal(group.pick('x'), a);
  assert.deepEqual(
    group.status().map((s) => s.inFlight),
    [0, 2, 1],
  );
});

test('least-conn takes turns between equally loaded upstreams', () => {
  const { group } = clockedGroup('least-conn');
  const picks = Array.from({ length: 6 }, () => group.pick('x'));
  assert.deepEqual(names(picks), [...URLS, ...URLS]);
});

test('end() never takes the in-flight count below zero', () => {
  const { group, a } = clockedGroup('least-conn');
  group.end(a);
  assert.equal(group.status()[0]?.inFlight, 0);
});

test('ip-hash sends a client to the same upstream every time, and spreads clients', () => {
  const { group } = clockedGroup('ip-hash');
  const seen = new Set<string>();
  for (let i = 1; i <= 60; i++) {
    const client = `10.0.${i}.7`;
    const first = group.pick(client);
    for (let k = 0; k < 5; k++) assert.equal(group.pick(client), first);
    seen.add(first!.name);
  }
  assert.equal(seen.size, 3, 'sixty clients reach all three upstreams');
});

test('ip-hash is stable across groups and treats IPv4-mapped IPv6 as IPv4', () => {
  const one = new UpstreamGroup(URLS, { policy: 'ip-hash' });
  const two = new UpstreamGroup(URLS, { policy: 'ip-hash' });
  for (const client of ['192.0.2.1', '2001:db8::1', '198.51.100.20']) {
    assert.equal(one.pick(client)?.name, two.pick(client)?.name);
  }
  assert.equal(one.pick('::ffff:192.0.2.1'), one.pick('192.0.2.1'));
});

test('ip-hash moves only the clients of an ejected upstream, and they return', () => {
  const { group, clock, b } = clockedGroup('ip-hash');
  const clients = Array.from({ length: 40 }, (_, i) => `172.16.0.${i}`);
  const before = new Map(clients.map((c) => [c, group.pick(c)]));
  group.reportFailure(b);
  for (const c of clients) {
    const now = group.pick(c);
    if (before.get(c) === b) assert.notEqual(now, b);
    else assert.equal(now, before.get(c), 'clients of other upstreams stay put');
  }
  clock.t += EJECT_MS;
  for (const c of clients) assert.equal(group.pick(c), before.get(c));
});

test('methods refuse an upstream from another group', () => {
  const { group } = clockedGroup();
  const stranger = parseUpstreamUrl('http://127.0.0.1:9');
  assert.throws(() => group.reportFailure(stranger), RangeError);
});
