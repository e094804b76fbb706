/**
 * The in-memory configuration: what `berth.yaml` says once validated, and what the CLI flags
 * build too (every flag maps onto this). Plain frozen data, no behaviour: config/load.ts makes it
 * from YAML, config/build.ts turns it into listeners and handler chains.
 *
 * Paths in it are absolute (the loader resolves them against the config file's folder, the CLI
 * against the working directory). Durations are milliseconds, sizes bytes, unless a name says
 * otherwise.
 */

export type Config = {
  readonly listeners: readonly ListenerConfig[];
  /** Sites in order; a request goes to the first whose hosts match, else the default site. */
  readonly sites: readonly SiteConfig[];
  readonly log: LogConfig;
  /** The live status page and metrics (/.berth/status, /.berth/metrics). */
  readonly status: StatusConfig;
  /** Worker processes: 1 runs in the primary process itself; 'auto' is one per core. */
  readonly workers: number | 'auto';
  /** Where `berth reload` finds the running primary; undefined: no pid file. */
  readonly pidFile: string | undefined;
  /** Grace given to in-flight requests on SIGTERM before connections are cut. */
  readonly stopTimeoutMs: number;
  /** Open connections one client address (IPv6: one /64) may hold; more are refused at accept. */
  readonly connectionsPerClient: number;
  /** After binding, drop root privileges to this user (and its primary group). */
  readonly user: string | undefined;
};

export type ListenerConfig = {
  /** A name for logs and for matching listeners across reloads: `address:port`, or the path. */
  readonly id: string;
  readonly bind:
    | { readonly kind: 'tcp'; readonly address: string; readonly port: number }
    | { readonly kind: 'unix'; readonly path: string }
    /** Socket activation: the n-th descriptor systemd passed (LISTEN_FDS), from 0. */
    | { readonly kind: 'systemd'; readonly index: number };
  readonly tls: ListenerTls | undefined;
  /** Cleartext HTTP/2 with prior knowledge. */
  readonly h2c: boolean;
  /**
   * This listener serves no site: it answers every request with 308 to the same path on https at
   * this port (the CLI's `--redirect-http`; RFC 9110 §15.4.9 keeps method and body). 0: the
   * port the first TLS listener got (listed before this one).
   */
  readonly httpsRedirectPort: number | undefined;
};

/**
 * TLS on a listener: certificates chosen by SNI among every site's `certificates` plus these;
 * 'local' issues them from Berth's local CA for the names given (and localhost, 127.0.0.1, ::1).
 */
export type ListenerTls =
  | { readonly kind: 'files'; readonly certificates: readonly CertificateFiles[] }
  | { readonly kind: 'local'; readonly hosts: readonly string[] };

export type CertificateFiles = {
  readonly cert: string;
  readonly key: string;
  readonly keyPassFile: string | undefined;
};

export type SiteConfig = {
  /**
   * Host names this site answers (Host header, and TLS SNI): exact (`example.com`) or one
   * leading wildcard label (`*.example.com`). Empty: the default site (at most one).
   */
  readonly hosts: readonly string[];
  /** Certificates for this site's names, offered by SNI on TLS listeners with kind 'files'. */
  readonly certificates: readonly CertificateFiles[];
  /** Routes in order; the first whose match fits the path answers. */
  readonly routes: readonly RouteConfig[];
  /** Status → absolute path of an HTML file sent as the body of that error (e.g. 404, 502). */
  readonly errorPages: Readonly<Record<number, string>>;
  /** Strict-Transport-Security on HTTPS responses. */
  readonly hsts: boolean;
};

export type RouteConfig = {
  /**
   * Which request paths: a prefix ending in `/` or a whole path (`/api/`, `/health`), or a glob
   * (`*` within one segment, `**` across segments: `/assets/**\/*.css`). `/` matches everything.
   */
  readonly match:
    | { readonly kind: 'prefix'; readonly prefix: string }
    | { readonly kind: 'glob'; readonly glob: string };
  /** Applied outermost first, around the handler. */
  readonly middleware: readonly MiddlewareConfig[];
  /** An RFC 9111 cache in front of the handler. */
  readonly cache: CacheConfig | undefined;
  readonly handler: HandlerConfig;
};

export type MiddlewareConfig =
  | {
      readonly kind: 'headers';
      /** Response fields: set replaces, add appends, remove deletes (names case-insensitive). */
      readonly set: Readonly<Record<string, string>>;
      readonly add: Readonly<Record<string, string>>;
      readonly remove: readonly string[];
    }
  | {
      readonly kind: 'basic-auth';
      readonly realm: string;
      /** `user:pass` pairs, or an htpasswd file (bcrypt). */
      readonly users:
        | { readonly kind: 'plain'; readonly pairs: readonly string[] }
        | { readonly kind: 'htpasswd'; readonly file: string };
      /**
       * Only these methods need credentials (e.g. PUT, DELETE); empty: all. 'unsafe': every method
       * but GET, HEAD and OPTIONS (fail-closed for writes); 'safe': just those three.
       */
      readonly methods: readonly string[] | 'safe' | 'unsafe';
    }
  | {
      readonly kind: 'cors';
      /** Allowed origins; `*` for any. */
      readonly origins: readonly string[];
      readonly methods: readonly string[];
      readonly headers: readonly string[];
      readonly credentials: boolean;
      readonly maxAgeSeconds: number;
    }
  | { readonly kind: 'compress'; readonly minBytes: number }
  | {
      readonly kind: 'rate-limit';
      /** Tokens added per second per client address. */
      readonly perSecond: number;
      /** Bucket size: the burst a client may send at once. */
      readonly burst: number;
    };

export type CacheConfig = {
  readonly sizeBytes: number;
  /** A disk store in this folder; undefined: memory. */
  readonly dir: string | undefined;
};

export type HandlerConfig =
  | {
      readonly kind: 'static';
      readonly root: string;
      readonly maxAgeSeconds: number | undefined;
      readonly spa: boolean;
      readonly listing: boolean;
      readonly dotfiles: 'ignore' | 'deny' | 'allow';
      readonly followSymlinks: boolean;
      readonly compress: boolean;
      readonly cors: boolean;
      readonly upload: boolean;
      readonly maxUploadBytes: number;
      /** What is not a file goes here (the CLI's `--fallback-proxy`): the "static + API" setup. */
      readonly fallback: ProxyHandlerConfig | undefined;
    }
  | ProxyHandlerConfig
  | {
      /** A forward proxy (absolute-form requests, CONNECT tunnels); its cache, if any, runs after its access checks. */
      readonly kind: 'forward-proxy';
      /** Client CIDRs allowed; undefined: loopback only. */
      readonly allow: readonly string[] | undefined;
      readonly connectPorts: readonly number[];
      readonly auth: { readonly user: string; readonly pass: string } | undefined;
      readonly pseudonym: string | undefined;
    }
  | {
      readonly kind: 'redirect';
      /** 301, 302, 303, 307 or 308. */
      readonly status: number;
      /**
       * The Location, with placeholders: `{scheme}`, `{host}` (Host without port), `{port}`,
       * `{path}`, `{query}` (with its `?`, or empty), `{uri}` (path and query). Example:
       * `https://{host}{uri}`.
       */
      readonly to: string;
    }
  | {
      readonly kind: 'respond';
      readonly status: number;
      readonly body: string;
      readonly headers: Readonly<Record<string, string>>;
    };

/** A reverse proxy to an upstream group. */
export type ProxyHandlerConfig = {
  readonly kind: 'proxy';
  /** Upstream URLs: http://host:port, https://host, unix:/path. */
  readonly to: readonly string[];
  readonly lb: 'round-robin' | 'least-conn' | 'ip-hash';
  readonly health:
    | { readonly path: string; readonly intervalMs: number; readonly status: number }
    | undefined;
  readonly trustProxy: readonly string[];
  readonly pseudonym: string | undefined;
  readonly timeoutMs: number | undefined;
};

export type LogConfig = {
  readonly format: 'combined' | 'common' | 'json' | 'off';
  /** undefined: stdout. */
  readonly file: string | undefined;
};

export type StatusConfig = {
  readonly enabled: boolean;
  /** Client addresses (CIDR) allowed to see it; default loopback only. */
  readonly allow: readonly string[];
};
