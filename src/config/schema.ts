/**
 * The shape of `berth.yaml` as a zod schema: what a person may write, with defaults and every
 * check that can point at a place in the file (the loader turns each issue into `file:line:col`).
 * Keys are camelCase, like the model's; objects are strict, so a misspelt key is an error that
 * lists the keys allowed there, not a setting silently ignored.
 *
 * The parsed result (ConfigFile) still holds paths as written and YAML's own nesting;
 * to-model.ts resolves it into the frozen Config. berth.schema.json is generated from this file
 * (scripts/config-schema.ts), so editors complete and check the same keys.
 */
import { z } from 'zod';
import { parseUpstreamUrl } from '../proxy/balancer.js';
import { crossChecks, unreachableRoutes } from './cross-checks.js';
import { bool, exactlyOne, oneOfKeys, oneOrMany, shorthand, strict } from './schema-kit.js';
import {
  addressValue,
  cidrValue,
  durationValue,
  headerMap,
  headerNameValue,
  hostValue,
  matchValue,
  methodValue,
  originValue,
  pathValue,
  portValue,
  pseudonymValue,
  realmValue,
  redirectTargetValue,
  sizeValue,
  statusValue,
  upstreamValue,
  userPassValue,
} from './schema-values.js';

const MIB = 1024 * 1024;
/** Where the status page may be seen from when `allow` is not given: this machine only. */
export const LOOPBACK_CIDRS: readonly string[] = ['127.0.0.0/8', '::1/128'];

const certificate = strict({
  cert: pathValue.describe('PEM certificate (chain) file'),
  key: pathValue.describe('PEM private key file'),
  keyPassFile: pathValue.optional().describe('file holding the passphrase of an encrypted key'),
});

const TLS_FORMS = 'auto, true, false, { cert, key }, a list of { cert, key }, or { hosts: [...] }';

const tlsObject = strict({
  hosts: oneOrMany(hostValue, 'a host name').optional().describe("local CA: names beyond the sites' hosts"),
  ...certificate.shape,
  cert: pathValue.optional(),
  key: pathValue.optional(),
})
  .superRefine((t, ctx) => {
    const files = t.cert !== undefined || t.key !== undefined || t.keyPassFile !== undefined;
    if (t.hosts !== undefined && files) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected { hosts } (local CA) or { cert, key } (files), not both',
      });
    } else if (files && (t.cert === undefined || t.key === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected both cert and key',
        path: [t.cert ? 'key' : 'cert'],
      });
    } else if (!files && t.hosts === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected ${TLS_FORMS}` });
    }
  })
  .meta({ oneOf: [{ required: ['hosts'] }, { required: ['cert', 'key'] }] });

const tlsValue = z
  .union([z.literal('auto'), z.boolean(), tlsObject, z.array(certificate).min(1)], {
    error: `expected ${TLS_FORMS}`,
  })
  .describe(
    "auto: certificates from Berth's local CA for every site's hosts; true: the sites' certificates; " +
      "{ cert, key } or a list of them: these files (and the sites')",
  );

const LISTENER_KINDS = ['port', 'unix', 'systemd'];

const listenerObject = strict({
  port: portValue.optional(),
  address: addressValue.optional().describe('with port: the address to bind (default 127.0.0.1)'),
  unix: pathValue.optional().describe('a unix socket path'),
  systemd: z.number().int().min(0).optional().describe('socket activation: the n-th passed socket, from 0'),
  tls: tlsValue.optional(),
  h2c: bool(false).describe('cleartext HTTP/2 with prior knowledge'),
})
  .superRefine(exactlyOne(LISTENER_KINDS))
  .superRefine((l, ctx) => {
    if (l.address !== undefined && l.port === undefined) {
      ctx.addIssue({ code: 'custom', message: 'address goes with port', path: ['address'] });
    }
  })
  .meta(oneOfKeys(LISTENER_KINDS));

const listener = z.union([portValue, listenerObject], {
  error: 'expected a port, or { port, address, tls }, { unix: path } or { systemd: n }',
});

const headersMiddleware = strict({
  set: headerMap.default({}).describe('fields set, replacing any the handler sent'),
  add: headerMap.default({}).describe('fields appended'),
  remove: z.array(headerNameValue).default([]).describe('field names removed'),
});

const basicAuthMiddleware = strict({
  realm: realmValue.default('berth'),
  users: z.array(userPassValue).min(1).optional().describe('user:password pairs'),
  htpasswd: pathValue.optional().describe('an htpasswd file (bcrypt)'),
  methods: z.array(methodValue).default([]).describe('only these methods need credentials; empty: all'),
})
  .superRefine(exactlyOne(['users', 'htpasswd']))
  .meta(oneOfKeys(['users', 'htpasswd']));

const corsMiddleware = strict({
  origins: z.array(originValue).min(1).default(['*']),
  methods: z.array(methodValue).min(1).default(['GET', 'HEAD', 'POST']),
  headers: z.array(headerNameValue).default([]).describe('request headers allowed'),
  credentials: bool(false),
  maxAge: durationValue.prefault(600).describe('how long browsers may keep a preflight answer (seconds)'),
}).superRefine((c, ctx) => {
  // Fetch §3.2.5: a credentialed response cannot allow `*`; browsers reject it.
  if (c.credentials && c.origins.includes('*')) {
    ctx.addIssue({
      code: 'custom',
      message: 'credentials: true needs explicit origins, not *',
      path: ['origins'],
    });
  }
});

const MIDDLEWARE_KINDS = ['headers', 'basicAuth', 'cors', 'compress', 'rateLimit'];

const middlewareItem = strict({
  headers: headersMiddleware.optional(),
  basicAuth: basicAuthMiddleware.optional(),
  cors: shorthand(
    z.literal(true),
    corsMiddleware,
    () => ({}),
    'expected true or { origins, ... }',
  ).optional(),
  compress: shorthand(
    z.literal(true),
    strict({ minSize: sizeValue().prefault(1024) }),
    () => ({}),
    'expected true or { minSize }',
  )
    .optional()
    .describe('gzip/brotli for compressible responses of at least minSize (default 1k)'),
  rateLimit: strict({
    perSecond: z.number({ error: 'expected requests per second' }).positive('expected more than 0'),
    burst: z.number().int().min(1).optional().describe('default: perSecond, rounded up'),
  })
    .optional()
    .describe('per client address: a token bucket'),
})
  .superRefine(exactlyOne(MIDDLEWARE_KINDS))
  .meta(oneOfKeys(MIDDLEWARE_KINDS));

const cacheObject = strict({ size: sizeValue(MIB).prefault(256), dir: pathValue.optional() });

const cacheValue = z
  .union([z.boolean(), cacheObject], { error: 'expected true, false or { size, dir }' })
  .transform((v) => (v === false ? undefined : v === true ? cacheObject.parse({}) : v))
  .describe('an RFC 9111 cache in front of the handler: size in MiB (or 512m, 2g), dir for a disk store');

const staticObject = strict({
  root: pathValue.describe('the folder served'),
  maxAge: durationValue.optional().describe('Cache-Control max-age; default: no-cache (browsers revalidate)'),
  spa: bool(false).describe('index.html for unknown paths (single-page apps)'),
  listing: bool(true),
  dotfiles: z.enum(['ignore', 'deny', 'allow']).default('ignore'),
  followSymlinks: bool(false),
  compress: bool(true),
  cors: bool(false),
  upload: bool(false).describe('PUT and DELETE; needs a basicAuth middleware on the route'),
  maxUpload: sizeValue().prefault('1g'),
  unsafeOpenUploads: bool(false).describe('allow upload without basicAuth: anyone may write'),
});

/** One upstream or several; the same upstream twice (`http://a` and `http://a:80`) is a slip. */
const upstreams = z
  .union([upstreamValue, z.array(upstreamValue).min(1)], {
    error: 'expected an upstream URL or a list of them',
  })
  .transform((v) => (Array.isArray(v) ? v : [v]))
  .superRefine((urls, ctx) => {
    const names = urls.map((url) => parseUpstreamUrl(url).name);
    names.forEach((name, i) => {
      const first = names.indexOf(name);
      if (first < i)
        ctx.addIssue({
          code: 'custom',
          message: `listed twice: the same upstream as [${first}] (${name})`,
          path: [i],
        });
    });
  });

const healthObject = strict({
  path: z.string().regex(/^\/\S*$/, 'expected a path starting with /, e.g. /healthz'),
  interval: durationValue.prefault(5),
  status: statusValue(200, 599).default(200),
});

const proxyObject = strict({
  to: upstreams,
  lb: z.enum(['round-robin', 'least-conn', 'ip-hash']).default('round-robin'),
  health: shorthand(
    healthObject.shape.path,
    healthObject,
    (path) => ({ path }),
    'expected a path or { path, ... }',
  )
    .optional()
    .describe('GET this path on each upstream'),
  trustProxy: z.array(cidrValue).default([]).describe('believe X-Forwarded-*/Forwarded from these clients'),
  pseudonym: pseudonymValue.optional().describe("this proxy's name in Via"),
  timeout: durationValue.optional().describe('longest wait for an upstream response head'),
});

const redirectObject = strict({
  to: redirectTargetValue.describe('Location; placeholders {scheme} {host} {port} {path} {query} {uri}'),
  status: z.literal([301, 302, 303, 307, 308], { error: 'expected 301, 302, 303, 307 or 308' }).default(308),
});

const respondObject = strict({
  status: statusValue(200, 599).default(200),
  body: z.string({ error: 'expected text' }).default(''),
  headers: headerMap.default({}),
}).superRefine((r, ctx) => {
  // RFC 9110 §15.3.5 and §15.4.5: 204 and 304 responses have no content.
  if ((r.status === 204 || r.status === 304) && r.body !== '') {
    ctx.addIssue({ code: 'custom', message: `a ${r.status} response has no body`, path: ['body'] });
  }
});

const HANDLER_KINDS = ['static', 'proxy', 'redirect', 'respond'];

const route = strict({
  match: matchValue
    .prefault('/')
    .describe('a path prefix (/api/), a whole path (/health) or a glob (/a/**/*.css)'),
  middleware: z.array(middlewareItem).default([]).describe('outermost first'),
  cache: cacheValue.optional(),
  static: shorthand(
    pathValue,
    staticObject,
    (root) => ({ root }),
    'expected a folder or { root, ... }',
  ).optional(),
  proxy: shorthand(
    upstreams,
    proxyObject,
    (to) => ({ to }),
    'expected a URL, a list of URLs or { to, ... }',
  ).optional(),
  redirect: shorthand(
    redirectTargetValue,
    redirectObject,
    (to) => ({ to }),
    'expected a URL or { to, status }',
  ).optional(),
  respond: shorthand(
    statusValue(200, 599),
    respondObject,
    (status) => ({ status }),
    'expected a status or { status, body, headers }',
  ).optional(),
})
  .superRefine(exactlyOne(HANDLER_KINDS, 'handler'))
  .superRefine((r, ctx) => {
    const s = r.static;
    if (s?.upload && !s.unsafeOpenUploads && !r.middleware.some((m) => m.basicAuth)) {
      const message = 'upload needs a basicAuth middleware on this route (or unsafeOpenUploads: true)';
      ctx.addIssue({ code: 'custom', message, path: ['static', 'upload'] });
    }
  })
  .meta(oneOfKeys(HANDLER_KINDS));

const siteObject = strict({
  hosts: oneOrMany(hostValue, 'a host name')
    .optional()
    .describe('exact or *.wildcard names; leave out for the default site'),
  certificates: z
    .array(certificate)
    .default([])
    .describe('offered by SNI on listeners with tls: true or files'),
  hsts: bool(false).describe('Strict-Transport-Security on HTTPS responses'),
  errorPages: z
    .record(z.string().regex(/^[45]\d\d$/, 'expected an error status from 400 to 599'), pathValue)
    .default({})
    .describe('status: HTML file sent as the body of that error'),
  routes: z
    .array(route)
    .min(1, 'expected at least one route')
    .superRefine(unreachableRoutes)
    .describe('the first whose match fits answers'),
});

const LOG_FORMATS = ['combined', 'common', 'json', 'off'] as const;
const logObject = strict({ format: z.enum(LOG_FORMATS).default('combined'), file: pathValue.optional() });
const statusObject = strict({ enabled: bool(true), allow: z.array(cidrValue).default([...LOOPBACK_CIDRS]) });

/** The whole file. */
export const configFileSchema = strict({
  listeners: z.array(listener).min(1).optional().describe('default: one on 127.0.0.1:8080'),
  sites: z
    .array(siteObject)
    .min(1, 'expected at least one site')
    .describe('a request goes to the first whose hosts match'),
  log: shorthand(
    z.enum(LOG_FORMATS),
    logObject,
    (format) => ({ format }),
    'expected combined, common, json, off or { format, file }',
  )
    .prefault({})
    .describe('access log: format, and file (default stdout)'),
  status: shorthand(
    z.boolean(),
    statusObject,
    (enabled) => ({ enabled }),
    'expected true, false or { enabled, allow }',
  )
    .prefault({})
    .describe('/.berth/status and /.berth/metrics; default: on, loopback only'),
  workers: z
    .union([z.literal('auto'), z.number().int().min(1).max(1024)], {
      error: 'expected a number of workers or auto',
    })
    .default(1),
  pidFile: pathValue.optional(),
  stopTimeout: durationValue.prefault(10).describe('grace for in-flight requests on SIGTERM (seconds)'),
  connectionsPerClient: z
    .number({ error: 'expected a number of connections' })
    .int()
    .min(1)
    .default(256)
    .describe('open connections one client address (IPv6: one /64) may hold; more are refused at accept'),
  user: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_.-]*\$?$|^\d+$/, 'expected a user name or uid')
    .optional()
    .describe('after binding, drop root privileges to this user'),
})
  .superRefine(crossChecks)
  .describe('Berth configuration (berth.yaml)');

/** The validated file, before paths are resolved and defaults that depend on other parts are filled. */
export type ConfigFile = z.output<typeof configFileSchema>;
