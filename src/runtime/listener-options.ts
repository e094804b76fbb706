/**
 * What a configured listener needs from the engine: its ServerOptions (TLS certificates from
 * files or from the local CA, h2c) and its ListenOptions (address and port, unix path, or a
 * descriptor systemd passed).
 */

import type { CertificateFiles, Config, ListenerConfig } from '../config/model.js';
import type { ServerOptions } from '../conn/config.js';
import type { ListenOptions } from '../conn/server.js';
import type { CertificateOptions } from '../conn/tls-listener.js';

/** The first descriptor systemd passes (sd_listen_fds(3): SD_LISTEN_FDS_START). */
const SD_LISTEN_FDS_START = 3;

/**
 * Engine options for one listener. TLS 'files' offers the listener's certificates first, then
 * every site's (SNI picks by name); 'local' issues one from Berth's local CA for the names asked
 * plus every site's exact (non-wildcard) host names. Throws with the file or CA problem.
 */
export async function serverOptionsFor(listener: ListenerConfig, config: Config): Promise<ServerOptions> {
  const options: ServerOptions = { h2c: listener.h2c };
  const tls = listener.tls;
  if (tls === undefined) return options;
  if (tls.kind === 'local') {
    const { ensureLocalCertificate } = await import('../tls/local-ca.js');
    const siteHosts = config.sites.flatMap((site) => site.hosts.filter((h) => !h.startsWith('*.')));
    const local = await ensureLocalCertificate({ hosts: [...new Set([...tls.hosts, ...siteHosts])] });
    options.tls = { certificates: [{ cert: local.cert, key: local.key }] };
    return options;
  }
  const files = [...tls.certificates, ...config.sites.flatMap((site) => site.certificates)];
  const certificates: CertificateOptions[] = [];
  for (const file of files) certificates.push(await loadCertificate(file));
  options.tls = { certificates };
  return options;
}

async function loadCertificate(files: CertificateFiles): Promise<CertificateOptions> {
  const { loadCertificateFiles } = await import('../tls/load.js');
  const loaded = await loadCertificateFiles({
    cert: files.cert,
    key: files.key,
    ...(files.keyPassFile === undefined ? {} : { keyPassFile: files.keyPassFile }),
  });
  return {
    cert: loaded.cert,
    key: loaded.key,
    names: loaded.names,
    ...(loaded.passphrase === undefined ? {} : { passphrase: loaded.passphrase }),
  };
}

/**
 * Where to listen. A systemd listener takes descriptor 3 + index, after checking LISTEN_PID and
 * LISTEN_FDS (sd_listen_fds(3)); throws when systemd passed no such descriptor to this process.
 */
export function listenOptionsFor(
  listener: ListenerConfig,
  env: NodeJS.ProcessEnv = process.env,
): ListenOptions {
  const bind = listener.bind;
  switch (bind.kind) {
    case 'tcp':
      return { port: bind.port, host: bind.address };
    case 'unix':
      return { path: bind.path };
    case 'systemd': {
      const count = Number(env.LISTEN_FDS ?? '0');
      if (env.LISTEN_PID !== String(process.pid) || !(bind.index < count)) {
        throw new Error(
          `listener ${listener.id}: systemd passed no socket ${bind.index} to this process (LISTEN_FDS=${env.LISTEN_FDS ?? 'unset'}); start Berth from a .socket unit`,
        );
      }
      return { fd: SD_LISTEN_FDS_START + bind.index };
    }
  }
}

/** Whether two listener configs can share one running server (a reload keeps its socket). */
export function sameListener(a: ListenerConfig, b: ListenerConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
