/** cors() on a real Berth server, asked the way a browser asks (Origin, preflight fields), with fetch. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withServer } from '../../test/e2e/raw-client.js';
import { HttpError } from '../handler/http-error.js';
import type { Handler } from '../handler/types.js';
import { type CorsConfig, cors } from './cors.js';

const SITE = 'https://app.example';

function config(partial: Partial<Omit<CorsConfig, 'kind'>> = {}): CorsConfig {
  return {
    kind: 'cors',
    origins: [SITE, 'http://localhost:3000'],
    methods: ['GET', 'PUT'],
    headers: ['Content-Type', 'X-Token'],
    credentials: false,
    maxAgeSeconds: 600,
    ...partial,
  };
}

/** Calls to next, by method. */
type Seen = { calls: string[] };

function nextHandler(seen: Seen): Handler {
  return (req, res) => {
    seen.calls.push(req.method);
    res.setHeader('Vary', 'Accept-Language');
    res.end('data');
  };
}

async function ask(
  cfg: CorsConfig,
  init: { method?: string; headers?: Record<string, string> },
  next?: Handler,
): Promise<{ response: Response; seen: Seen }> {
  const seen: Seen = { calls: [] };
  let response: Response | undefined;
  await withServer(cors(cfg)(next ?? nextHandler(seen)), undefined, async ({ url }) => {
    response = await fetch(url, init);
    await response.arrayBuffer();
  });
  return { response: response!, seen };
}

describe('cors()', () => {
  it('cors() echoes an allowed Origin, says Vary: Origin, and lets the request through', async () => {
    const { response, seen } = await ask(config(), { headers: { Origin: SITE } });
    assert.equal(response.headers.get('access-control-allow-origin'), SITE);
    assert.equal(response.headers.get('vary'), 'Accept-Language, Origin');
    assert.equal(response.headers.get('access-control-allow-credentials'), null);
    assert.deepEqual(seen.calls, ['GET']);
  });

  it('cors() with credentials adds Allow-Credentials and still names the origin', async () => {
    const { response } = await ask(config({ credentials: true }), { headers: { Origin: SITE } });
    assert.equal(response.headers.get('access-control-allow-origin'), SITE);
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
  });

  it('cors() answers any origin with * when every origin is allowed without credentials, no Vary', async () => {
    const { response } = await ask(config({ origins: ['*'] }), {
      headers: { Origin: 'https://anyone.example' },
    });
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
    assert.equal(response.headers.get('vary'), 'Accept-Language');
  });

  it('cors() gives an origin not in the list no CORS fields, but Vary: Origin, and passes it on', async () => {
    for (const headers of [{ Origin: 'https://evil.example' }, {}] as Record<string, string>[]) {
      const { response, seen } = await ask(config(), { headers });
      assert.equal(response.headers.get('access-control-allow-origin'), null);
      assert.equal(response.headers.get('vary'), 'Accept-Language, Origin');
      assert.deepEqual(seen.calls, ['GET']);
    }
  });

  it('cors() answers a preflight from an allowed origin itself, 204, with methods, headers and max-age', async () => {
    const { response, seen } = await ask(config({ credentials: true }), {
      method: 'OPTIONS',
      headers: {
        Origin: SITE,
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'x-token',
      },
    });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get('access-control-allow-origin'), SITE);
    assert.equal(response.headers.get('access-control-allow-methods'), 'GET, PUT');
    assert.equal(response.headers.get('access-control-allow-headers'), 'Content-Type, X-Token');
    assert.equal(response.headers.get('access-control-max-age'), '600');
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(response.headers.get('vary'), 'Origin');
    assert.deepEqual(seen.calls, []);
  });

  it('cors() passes a preflight from another origin, and a plain OPTIONS, on to next', async () => {
    const preflight = await ask(config(), {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'PUT' },
    });
    assert.equal(preflight.response.status, 200);
    assert.equal(preflight.response.headers.get('access-control-allow-methods'), null);
    assert.deepEqual(preflight.seen.calls, ['OPTIONS']);
    const plain = await ask(config(), { method: 'OPTIONS', headers: { Origin: SITE } });
    assert.deepEqual(plain.seen.calls, ['OPTIONS']);
    assert.equal(plain.response.headers.get('access-control-allow-origin'), SITE);
  });

  it('cors() with * methods and headers sends * without credentials and reflects the request with them', async () => {
    const init = {
      method: 'OPTIONS',
      headers: {
        Origin: SITE,
        'Access-Control-Request-Method': 'PATCH',
        'Access-Control-Request-Headers': 'x-a, x-b',
      },
    };
    const open = await ask(config({ methods: ['*'], headers: ['*'] }), init);
    assert.equal(open.response.headers.get('access-control-allow-methods'), '*');
    assert.equal(open.response.headers.get('access-control-allow-headers'), '*');
    const withCredentials = await ask(config({ methods: ['*'], headers: ['*'], credentials: true }), init);
    assert.equal(withCredentials.response.headers.get('access-control-allow-methods'), 'PATCH');
    assert.equal(withCredentials.response.headers.get('access-control-allow-headers'), 'x-a, x-b');
    assert.equal(
      withCredentials.response.headers.get('vary'),
      'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    );
  });

  it('cors() with no methods configured allows the CORS-safelisted ones', async () => {
    const { response } = await ask(config({ methods: [], headers: [] }), {
      method: 'OPTIONS',
      headers: { Origin: SITE, 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(response.headers.get('access-control-allow-methods'), 'GET, HEAD, POST');
    assert.equal(response.headers.get('access-control-allow-headers'), null);
  });

  it('cors() puts its fields on an HttpError next throws, so the page can read the error', async () => {
    const next: Handler = () => {
      throw new HttpError(404, 'not found');
    };
    const { response } = await ask(config(), { headers: { Origin: SITE } }, next);
    assert.equal(response.status, 404);
    assert.equal(response.headers.get('access-control-allow-origin'), SITE);
    assert.equal(response.headers.get('vary'), 'Origin');
  });

  it('cors() matches configured origins in their serialized form', async () => {
    const { response } = await ask(config({ origins: ['HTTPS://App.Example:443/'] }), {
      headers: { Origin: SITE },
    });
    assert.equal(response.headers.get('access-control-allow-origin'), SITE);
  });

  it('cors() refuses * with credentials, origins with a path, and a bad max-age', () => {
    assert.throws(() => cors(config({ origins: ['*'], credentials: true })), /credentials/);
    assert.throws(() => cors(config({ origins: ['https://a.example/app'] })), /not an origin/);
    assert.throws(() => cors(config({ origins: ['a.example'] })), /not an origin/);
    assert.throws(() => cors(config({ origins: [] })), /no origin/);
    assert.throws(() => cors(config({ maxAgeSeconds: -1 })), /maxAgeSeconds/);
    assert.throws(() => cors(config({ headers: ['X-A\r\n'] })), /not a token/);
  });
});
