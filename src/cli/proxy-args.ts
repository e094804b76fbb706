/**
 * `berth proxy` and `berth forward-proxy`: their flags, checked and turned into commands.
 */

import type { ProxyHandlerConfig } from '../config/model.js';
import {
  type ListenerCommand,
  listenerCommand,
  nonEmpty,
  oneOf,
  port,
  seconds,
  statusCode,
  UsageError,
  upstreamUrl,
  userPass,
  type Values,
} from './flags.js';

/** `berth proxy --to URL …`: a reverse proxy (gateway) to an upstream group. */
export type ProxyCommand = ListenerCommand & {
  readonly kind: 'proxy';
  readonly to: readonly string[];
  readonly lb: ProxyHandlerConfig['lb'];
  readonly health: ProxyHandlerConfig['health'];
  readonly trustProxy: readonly string[];
  readonly pseudonym: string | undefined;
  readonly cache: CacheSpec | undefined;
};

/** `--cache` on a proxy: a memory store of `sizeBytes`, or a disk store in `dir` of that size. */
export type CacheSpec = { readonly sizeBytes: number; readonly dir: string | undefined };

/** `berth forward-proxy`: a forward proxy with CONNECT tunnels, never open by default. */
export type ForwardProxyCommand = ListenerCommand & {
  readonly kind: 'forward-proxy';
  readonly allow: readonly string[] | undefined;
  readonly connectPorts: readonly number[];
  readonly auth: { readonly user: string; readonly pass: string } | undefined;
  readonly pseudonym: string | undefined;
  readonly cache: CacheSpec | undefined;
};

const LB_POLICIES = ['round-robin', 'least-conn', 'ip-hash'] as const;

export function proxyCommand(v: Values, env: NodeJS.ProcessEnv): ProxyCommand {
  if (v.auth !== undefined) throw new UsageError('--auth does not apply to berth proxy: put auth in the app');
  const to = (v.to ?? []).map((url) => upstreamUrl('--to', url));
  if (to.length === 0)
    throw new UsageError('berth proxy needs at least one --to URL, e.g. --to http://127.0.0.1:3000');
  const health =
    v.health === undefined
      ? undefined
      : {
          path: v.health.startsWith('/') ? v.health : `/${v.health}`,
          intervalMs: seconds('--health-interval', v['health-interval'] ?? '5') * 1000,
          status: v['health-status'] === undefined ? 200 : statusCode(v['health-status']),
        };
  return {
    kind: 'proxy',
    ...listenerCommand(withoutCache(v), env, 'proxy'),
    cache: cacheSpec(v),
    to,
    lb: v.lb === undefined ? 'round-robin' : oneOf('--lb', v.lb, LB_POLICIES),
    health,
    trustProxy: v['trust-proxy'] ?? [],
    pseudonym: v.pseudonym,
  };
}

export function forwardProxyCommand(v: Values, env: NodeJS.ProcessEnv): ForwardProxyCommand {
  for (const flag of ['to', 'lb', 'health', 'health-interval', 'health-status', 'trust-proxy'] as const) {
    if (v[flag] !== undefined) throw new UsageError(`--${flag} belongs to berth proxy`);
  }
  const connectPorts = (v['connect-ports'] ?? '443').split(',').map((p) => port('--connect-ports', p.trim()));
  let auth: ForwardProxyCommand['auth'];
  if (v.auth !== undefined) {
    const pair = userPass('--auth', v.auth);
    const colon = pair.indexOf(':');
    auth = { user: pair.slice(0, colon), pass: pair.slice(colon + 1) };
  }
  return {
    kind: 'forward-proxy',
    ...listenerCommand(withoutCache(v), env, 'forward-proxy'),
    cache: cacheSpec(v),
    allow: v.allow,
    connectPorts,
    auth,
    pseudonym: v.pseudonym,
  };
}

/** The values without --cache, which serve reads differently. */
function withoutCache(v: Values): Values {
  const { cache: _, ...rest } = v;
  return rest;
}

/** --cache [--cache-size MB] [--cache-dir DIR] on a proxy command. */
function cacheSpec(v: Values): CacheSpec | undefined {
  if (v.cache === undefined) {
    for (const flag of ['cache-size', 'cache-dir'] as const) {
      if (v[flag] !== undefined) throw new UsageError(`--${flag} needs --cache`);
    }
    return undefined;
  }
  if (v.cache !== 'on') throw new UsageError('--cache takes no value on a proxy (use --cache-size MB)');
  const mib = v['cache-size'] === undefined ? 256 : Number(v['cache-size']);
  if (!Number.isInteger(mib) || mib < 1) {
    throw new UsageError(`--cache-size "${v['cache-size']}": give a whole number of MiB, e.g. 256`);
  }
  const dir = v['cache-dir'] === undefined ? undefined : nonEmpty('--cache-dir', v['cache-dir']);
  return { sizeBytes: mib * 1024 * 1024, dir };
}
