import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ParsedArgs, parseServeArgs, type ServeCommand } from './args.js';

function serve(args: string[], env: NodeJS.ProcessEnv = {}): ServeCommand {
  const parsed = parseServeArgs(args, env);
  assert.equal(parsed.kind, 'serve', JSON.stringify(parsed));
  return parsed as ServeCommand;
}

function error(args: string[], env: NodeJS.ProcessEnv = {}): string {
  const parsed: ParsedArgs = parseServeArgs(args, env);
  assert.equal(parsed.kind, 'error', JSON.stringify(parsed));
  const { message } = parsed as { message: string };
  assert.doesNotMatch(message, /\n/, 'one line');
  return message;
}

describe('parseServeArgs()', () => {
  it('parseServeArgs() serves . on 127.0.0.1:8080 with a combined log by default', () => {
    const cmd = serve([]);
    assert.equal(cmd.root, '.');
    assert.deepEqual(cmd.listen, { port: 8080, host: '127.0.0.1' });
    assert.deepEqual(cmd.static, { root: '.' });
    assert.deepEqual(cmd.log, { format: 'combined', file: undefined });
    assert.equal(cmd.quiet, false);
    assert.equal(cmd.auth, undefined);
    assert.equal(cmd.uploadAuth, undefined);
  });

  it('parseServeArgs() takes ROOT with or without the serve word', () => {
    assert.equal(serve(['./site']).root, './site');
    assert.equal(serve(['serve', './site']).root, './site');
    assert.equal(serve(['serve']).root, '.');
    assert.equal(serve(['-p', '0', 'site', '--cors']).root, 'site');
  });

  it('parseServeArgs() rejects a second ROOT', () => {
    assert.match(error(['a', 'b']), /unexpected argument "b"/);
  });

  it('parseServeArgs() reads the port from -p, --port, then $PORT', () => {
    assert.deepEqual(serve(['-p', '0']).listen, { port: 0, host: '127.0.0.1' });
    assert.deepEqual(serve(['--port=9000']).listen, { port: 9000, host: '127.0.0.1' });
    assert.deepEqual(serve([], { PORT: '3000' }).listen, { port: 3000, host: '127.0.0.1' });
    assert.deepEqual(serve(['-p', '4000'], { PORT: '3000' }).listen, { port: 4000, host: '127.0.0.1' });
  });

  it('parseServeArgs() rejects a port that is not 0 to 65535', () => {
    for (const bad of ['-1', '65536', 'http', '80x', '1e3', ' 80', '']) {
      assert.match(error([`--port=${bad}`]), /invalid --port/, bad);
    }
    assert.match(error([], { PORT: 'abc' }), /invalid \$PORT "abc"/);
  });

  it('parseServeArgs() takes an address, IPv6 included, with or without brackets', () => {
    assert.deepEqual(serve(['-a', '0.0.0.0']).listen, { port: 8080, host: '0.0.0.0' });
    assert.deepEqual(serve(['-a', '::']).listen, { port: 8080, host: '::' });
    assert.deepEqual(serve(['--address', '[::1]']).listen, { port: 8080, host: '::1' });
  });

  it('parseServeArgs() listens on a unix socket with --unix, alone', () => {
    assert.deepEqual(serve(['--unix', '/tmp/b.sock']).listen, { path: '/tmp/b.sock' });
    assert.match(error(['--unix', '/tmp/b.sock', '-p', '1']), /--unix cannot be combined/);
  });

  it('parseServeArgs() maps the file server flags to StaticOptions', () => {
    const cmd = serve([
      'site',
      '-c',
      '3600',
      '--cors',
      '--spa',
      '--no-listing',
      '--dotfiles',
      'deny',
      '--follow-symlinks',
      '--no-compress',
    ]);
    assert.deepEqual(cmd.static, {
      root: 'site',
      maxAgeSeconds: 3600,
      cors: true,
      spa: true,
      listing: false,
      dotfiles: 'deny',
      followSymlinks: true,
      compress: false,
    });
  });

  it('parseServeArgs() rejects a bad --cache or --dotfiles value', () => {
    assert.match(error(['--cache', '1h']), /invalid --cache "1h"/);
    assert.match(error(['--dotfiles', 'show']), /invalid --dotfiles "show": expected ignore, deny, allow/);
  });

  it('parseServeArgs() chooses the log format and file', () => {
    assert.deepEqual(serve(['--log', 'json']).log, { format: 'json', file: undefined });
    assert.deepEqual(serve(['--log', 'common', '--log-file', 'a.log']).log, {
      format: 'common',
      file: 'a.log',
    });
    assert.match(error(['--log', 'apache']), /invalid --log "apache": expected combined, common, json, off/);
  });

  it('parseServeArgs() --quiet turns the stdout log off but keeps a log file', () => {
    const quiet = serve(['-q', '--log', 'json']);
    assert.equal(quiet.quiet, true);
    assert.equal(quiet.log.format, 'off');
    assert.deepEqual(serve(['--quiet', '--log-file', 'a.log']).log, { format: 'combined', file: 'a.log' });
  });

  it('parseServeArgs() takes credentials from --auth or --auth-file, not both', () => {
    assert.deepEqual(serve(['--auth', 'ann:secret']).auth, { kind: 'plain', userPass: 'ann:secret' });
    assert.deepEqual(serve(['--auth', 'ann:a:b']).auth, { kind: 'plain', userPass: 'ann:a:b' });
    assert.deepEqual(serve(['--auth-file', '.htpasswd']).auth, { kind: 'htpasswd', file: '.htpasswd' });
    assert.match(error(['--auth', 'a:b', '--auth-file', 'f']), /cannot be combined/);
  });

  it('parseServeArgs() rejects USER:PASS without both parts and never echoes it', () => {
    for (const bad of ['ann', ':pw', 'ann:', '']) {
      const message = error(['--auth', bad]);
      assert.match(message, /expected USER:PASS/);
      if (bad !== '') assert.ok(!message.includes(bad), message);
    }
  });

  it('parseServeArgs() refuses --upload without credentials and says how to fix it', () => {
    const message = error(['--upload']);
    assert.match(message, /--upload-auth USER:PASS/);
    assert.match(message, /--unsafe-open-uploads/);
  });

  it('parseServeArgs() accepts --upload with --upload-auth, --auth, --auth-file or --unsafe-open-uploads', () => {
    const withUploadAuth = serve(['--upload', '--upload-auth', 'w:pw']);
    assert.equal(withUploadAuth.static.upload, true);
    assert.deepEqual(withUploadAuth.uploadAuth, { kind: 'plain', userPass: 'w:pw' });
    assert.equal(serve(['--upload', '--auth', 'a:b']).static.upload, true);
    assert.equal(serve(['--upload', '--auth-file', 'f']).static.upload, true);
    assert.equal(serve(['--upload', '--unsafe-open-uploads']).static.upload, true);
  });

  it('parseServeArgs() rejects upload flags without --upload', () => {
    assert.match(error(['--upload-auth', 'w:pw']), /--upload-auth only applies with --upload/);
    assert.match(error(['--unsafe-open-uploads']), /--unsafe-open-uploads only applies with --upload/);
    assert.match(error(['--max-upload', '1m']), /--max-upload only applies with --upload/);
  });

  it('parseServeArgs() reads --max-upload in bytes or with k, m, g', () => {
    const max = (text: string): number | undefined =>
      serve(['--upload', '--unsafe-open-uploads', '--max-upload', text]).static.maxUploadBytes;
    assert.equal(max('1000'), 1000);
    assert.equal(max('10k'), 10 * 1024);
    assert.equal(max('5M'), 5 * 1024 * 1024);
    assert.equal(max('2g'), 2 * 1024 ** 3);
    assert.equal(max('3mb'), 3 * 1024 * 1024);
    for (const bad of ['1.5m', '-1', 'm', '10t', '99999999999999999999']) {
      assert.match(
        error(['--upload', '--unsafe-open-uploads', `--max-upload=${bad}`]),
        /invalid --max-upload/,
      );
    }
  });

  it('parseServeArgs() names an unknown flag', () => {
    assert.equal(error(['--prot', '80']), 'unknown option --prot (see berth --help)');
    assert.equal(error(['-x']), 'unknown option -x (see berth --help)');
  });

  it('parseServeArgs() says which option lacks its value', () => {
    assert.match(error(['--port']), /option -p, --port needs a value/);
    assert.match(
      error(['--log-file', '--cors']),
      /--log-file needs a value \(the next argument starts with -\)/,
    );
  });

  it('parseServeArgs() recognises help and version', () => {
    assert.deepEqual(parseServeArgs(['-h'], {}), { kind: 'help' });
    assert.deepEqual(parseServeArgs(['--help', '--bogus-but-help-wins'], {}).kind, 'error');
    assert.deepEqual(parseServeArgs(['site', '--help'], {}), { kind: 'help' });
    assert.deepEqual(parseServeArgs(['-v'], {}), { kind: 'version' });
    assert.deepEqual(parseServeArgs(['--version'], {}), { kind: 'version' });
  });
});
