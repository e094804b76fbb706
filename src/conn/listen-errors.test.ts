import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { describeListenError, ListenError } from './listen-errors.js';

/** An errno error shaped as Node's net module builds them (see lib/internal/errors.js uvException). */
function errno(code: string, syscall = 'listen', detail = ''): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${syscall} ${code}: something went wrong${detail}`);
  err.code = code;
  err.syscall = syscall;
  return err;
}

function assertOneLine(line: string): void {
  assert.equal(line.includes('\n'), false, `not one line: ${line}`);
  assert.equal(/\bat \S+ \(/.test(line), false, `contains a stack frame: ${line}`);
}

/** The error a real node:net listen emits for these options. */
async function listenError(options: net.ListenOptions): Promise<NodeJS.ErrnoException> {
  const server = net.createServer();
  try {
    server.listen(options);
    await once(server, 'listening');
  } catch (err) {
    return err as NodeJS.ErrnoException;
  } finally {
    server.close();
  }
  assert.fail(`listening on ${JSON.stringify(options)} unexpectedly worked`);
}

describe('describeListenError()', () => {
  it('says a port below 1024 needs root or CAP_NET_BIND_SERVICE and suggests 8080', () => {
    const line = describeListenError(errno('EACCES'), { port: 80, host: '0.0.0.0' });
    assertOneLine(line);
    assert.match(line, /^cannot listen on 0\.0\.0\.0:80: /);
    assert.match(line, /root or CAP_NET_BIND_SERVICE/);
    assert.match(line, /sudo setcap cap_net_bind_service=\+ep \$\(which node\)/);
    assert.match(line, /8080/);
  });

  it('does not blame privileged ports for EACCES on a high port', () => {
    const line = describeListenError(errno('EACCES'), { port: 8443, host: '127.0.0.1' });
    assert.doesNotMatch(line, /CAP_NET_BIND_SERVICE/);
    assert.match(line, /^cannot listen on 127\.0\.0\.1:8443: permission denied \(EACCES\)/);
  });

  it('names the address in use and how to find its owner with ss', () => {
    const line = describeListenError(errno('EADDRINUSE'), { port: 3000, host: '127.0.0.1' });
    assertOneLine(line);
    assert.match(line, /^cannot listen on 127\.0\.0\.1:3000: .*already in use/);
    assert.match(line, /ss -ltnp 'sport = :3000'/);
  });

  it('brackets an IPv6 host before its port (RFC 3986 §3.2.2)', () => {
    const line = describeListenError(errno('EADDRINUSE'), { port: 3000, host: '::1' });
    assert.match(line, /^cannot listen on \[::1\]:3000: /);
  });

  it('says "all addresses" when no host was given', () => {
    const line = describeListenError(errno('EADDRINUSE'), { port: 3000 });
    assert.match(line, /^cannot listen on port 3000 \(all addresses\): /);
  });

  it('says a unix socket path in use is an existing socket file', () => {
    const line = describeListenError(errno('EADDRINUSE'), { path: '/run/berth.sock' });
    assertOneLine(line);
    assert.match(line, /^cannot listen on \/run\/berth\.sock: the socket file already exists/);
    assert.doesNotMatch(line, /sport/);
  });

  it('says an address that is not on this machine is not an address of this machine', () => {
    for (const code of ['EADDRNOTAVAIL', 'EINVAL']) {
      const line = describeListenError(errno(code), { port: 8080, host: '192.0.2.1' });
      assertOneLine(line);
      assert.match(line, /^cannot listen on 192\.0\.2\.1:8080: not an address of this machine/);
    }
  });

  it('says a host name that does not resolve does not resolve', () => {
    const line = describeListenError(errno('ENOTFOUND', 'getaddrinfo'), { port: 8080, host: 'nope.invalid' });
    assertOneLine(line);
    assert.match(line, /^cannot listen on nope\.invalid:8080: the host name does not resolve/);
  });

  it('says a unix socket path that is too long is too long', () => {
    const line = describeListenError(errno('ENAMETOOLONG'), { path: `/tmp/${'x'.repeat(200)}` });
    assert.match(line, /too long/);
  });

  it('falls back to the code and message for anything else, without repeating the code', () => {
    const err = errno('EMFILE', 'listen', ' 127.0.0.1:8080');
    const line = describeListenError(err, { port: 8080, host: '127.0.0.1' });
    assert.equal(line, 'cannot listen on 127.0.0.1:8080: EMFILE something went wrong 127.0.0.1:8080');
  });

  it('folds a multi-line message into one line', () => {
    const err: NodeJS.ErrnoException = new Error('first line\n  second line');
    err.code = 'EWEIRD';
    const line = describeListenError(err, { port: 1, host: 'h' });
    assert.equal(line, 'cannot listen on h:1: EWEIRD first line second line');
  });

  it('says UNKNOWN for an error without a code', () => {
    const line = describeListenError(new Error('boom'), { port: 8080 });
    assert.equal(line, 'cannot listen on port 8080 (all addresses): UNKNOWN boom');
  });
});

describe('ListenError', () => {
  it('carries the code, the one-line message and the original error as cause', () => {
    const original = errno('EADDRINUSE');
    const err = new ListenError(original, { port: 3000, host: '127.0.0.1' });
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'ListenError');
    assert.equal(err.code, 'EADDRINUSE');
    assert.equal(err.message, describeListenError(original, { port: 3000, host: '127.0.0.1' }));
    assert.equal(err.cause, original);
    assert.deepEqual(err.address, { port: 3000, host: '127.0.0.1' });
  });
});

describe('describeListenError() on real node:net errors', () => {
  it('names the port and ss -ltnp when the port is already bound on 127.0.0.1', async () => {
    const holder = net.createServer();
    holder.listen({ port: 0, host: '127.0.0.1' });
    await once(holder, 'listening');
    try {
      const address = holder.address();
      assert.ok(address !== null && typeof address === 'object');
      const where = { port: address.port, host: '127.0.0.1' };
      const err = await listenError(where);
      assert.equal(err.code, 'EADDRINUSE');
      const line = describeListenError(err, where);
      assertOneLine(line);
      assert.ok(line.includes(`127.0.0.1:${address.port}`), line);
      assert.ok(line.includes(`ss -ltnp 'sport = :${address.port}'`), line);
    } finally {
      holder.close();
    }
  });

  it('says an address of no local interface (TEST-NET-1, RFC 5737) is not an address of this machine', async () => {
    const where = { port: 0, host: '192.0.2.1' };
    const err = await listenError(where);
    assert.equal(err.code, 'EADDRNOTAVAIL');
    assert.match(describeListenError(err, where), /not an address of this machine/);
  });

  it('says a unix socket path in use is an existing socket file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-listen-'));
    const path = join(dir, 's.sock');
    const holder = net.createServer();
    holder.listen({ path });
    await once(holder, 'listening');
    try {
      const err = await listenError({ path });
      assert.equal(err.code, 'EADDRINUSE');
      assert.match(describeListenError(err, { path }), /the socket file already exists/);
    } finally {
      holder.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
