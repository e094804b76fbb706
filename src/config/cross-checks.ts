/**
 * The checks on `berth.yaml` that no single part can make alone: at most one default site, no host
 * in two sites, no two listeners on the same address, `tls: true` only when some site has
 * certificates, no route hidden behind an earlier one. Each issue points at the later of the two
 * places that clash.
 */
import type { z } from 'zod';
import { DEFAULT_LISTEN } from './schema-values.js';

type BindShape = {
  port?: number | undefined;
  address?: string | undefined;
  unix?: string | undefined;
  systemd?: number | undefined;
};
type Shape = {
  listeners?: readonly (number | (BindShape & { tls?: unknown }))[] | undefined;
  sites: readonly { hosts?: readonly string[] | undefined; certificates: readonly unknown[] }[];
};

/** What one part of the file cannot know alone: default sites, hosts and listen addresses that repeat. */
export function crossChecks(file: Shape, ctx: z.RefinementCtx): void {
  const hostSite = new Map<string, number>();
  let defaultSite: number | undefined;
  file.sites.forEach((site, i) => {
    if (site.hosts === undefined) {
      if (defaultSite === undefined) defaultSite = i;
      else {
        const message = `sites[${defaultSite}] is already the default site (no hosts); give this one hosts`;
        ctx.addIssue({ code: 'custom', message, path: ['sites', i] });
      }
      return;
    }
    site.hosts.forEach((host, j) => {
      const seen = hostSite.get(host);
      if (seen === undefined) hostSite.set(host, i);
      else {
        const where = seen === i ? 'this site' : `sites[${seen}]`;
        ctx.addIssue({
          code: 'custom',
          message: `${host} is already a host of ${where}`,
          path: ['sites', i, 'hosts', j],
        });
      }
    });
  });
  const bound = new Map<string, number>();
  const siteCertificates = file.sites.some((s) => s.certificates.length > 0);
  (file.listeners ?? []).forEach((l, i) => {
    const where = bindKey(typeof l === 'number' ? { port: l } : l);
    // Port 0 picks a free port each time, so two of them never clash.
    if (where !== undefined && !where.endsWith(':0')) {
      const seen = bound.get(where);
      if (seen === undefined) bound.set(where, i);
      else
        ctx.addIssue({
          code: 'custom',
          message: `listeners[${seen}] already listens on ${where}`,
          path: ['listeners', i],
        });
    }
    if (typeof l === 'object' && l.tls === true && !siteCertificates) {
      const message =
        "tls: true uses the sites' certificates, and no site has any (use auto or { cert, key })";
      ctx.addIssue({ code: 'custom', message, path: ['listeners', i, 'tls'] });
    }
  });
}

function bindKey(l: BindShape): string | undefined {
  if (l.port !== undefined) return `${l.address ?? DEFAULT_LISTEN.address}:${l.port}`;
  if (l.unix !== undefined) return l.unix;
  return l.systemd === undefined ? undefined : `systemd:${l.systemd}`;
}

type MatchShape =
  | { readonly kind: 'prefix'; readonly prefix: string }
  | { readonly kind: 'glob'; readonly glob: string };

/**
 * Routes no request can reach because an earlier route of the same site takes every path they
 * would (`/` first, or `/api/` before `/api/v2/`): almost always routes written in the wrong order.
 * Only certain cases are reported: an earlier glob hides nothing here unless written identically.
 */
export function unreachableRoutes(
  routes: readonly { readonly match: MatchShape }[],
  ctx: z.RefinementCtx,
): void {
  routes.forEach((later, j) => {
    const text = matchText(later.match);
    const i = routes.slice(0, j).findIndex(({ match }) => covers(match, text));
    if (i < 0) return;
    const message = `never reached: routes[${i}] (match: ${matchText(routes[i]!.match)}) takes every path first`;
    ctx.addIssue({ code: 'custom', message, path: [j, 'match'] });
  });
}

function matchText(m: MatchShape): string {
  return m.kind === 'prefix' ? m.prefix : m.glob;
}

/** Whether every path `text` matches is matched by `earlier` (prefix rules as in routing.ts). */
function covers(earlier: MatchShape, text: string): boolean {
  if (earlier.kind === 'glob') return earlier.glob === text;
  const p = earlier.prefix;
  if (p === '/' || text === p) return true;
  return text.startsWith(p.endsWith('/') ? p : `${p}/`);
}
