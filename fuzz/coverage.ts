/**
 * Block coverage of src/wire/ from V8's precise coverage (node:inspector, Profiler
 * .startPreciseCoverage with callCount and detailed), taken after every fuzz input. Each take
 * returns the counts since the last one and resets them.
 *
 * V8 reports a block only where its count differs from the enclosing range's (a block that ran as
 * often as its function is folded into it), so a block that starts running shows up as a range
 * that is no longer reported with count 0. We therefore keep every range V8 has ever reported
 * (the "known blocks"; the first take, right after the modules load, reports each function, run
 * or not) and give each, per input, the count of the innermost range reported around it. A
 * feature is (known block, log2 bucket of its count), as in libFuzzer; an input with a feature
 * never seen before is kept.
 */
import { Session } from 'node:inspector';

type Range = { startOffset: number; endOffset: number; count: number };
type ScriptCoverage = { url: string; functions: { ranges: Range[] }[] };

/** One known block: a range some take has reported, with an id shared by all targets. */
type Block = { readonly start: number; readonly end: number; readonly id: number };

type Script = {
  readonly url: string;
  /** Known blocks sorted by start, then longest first (so parents come before children). */
  blocks: Block[];
  readonly keys: Set<string>;
  /** The script's length: the end of its top-level range. */
  length: number;
};

/** What one take says about one input. */
export type Take = {
  /** Feature ids: block id × 8 + count bucket, for blocks that ran. */
  readonly features: number[];
  /** Sum of the block counts: how much wire/ code ran, a measure of work done. */
  readonly work: number;
};

export type CoverageSummary = {
  readonly blocksCovered: number;
  readonly blocksKnown: number;
  /** Bytes of the transpiled wire/ sources inside blocks that ran, and in all. */
  readonly bytesCovered: number;
  readonly bytesTotal: number;
  readonly files: readonly { readonly url: string; readonly percent: number }[];
};

/** Is `url` a wire/ source module (not a test or test helper)? */
export function isWireSource(url: string): boolean {
  return url.includes('/src/wire/') && !url.includes('.test.') && !url.includes('test-splits');
}

/** Precise coverage of the modules `include` accepts, one take per fuzz input. */
export class WireCoverage {
  private readonly session = new Session();
  private readonly scripts = new Map<string, Script>();
  /** Per block id: has it ever run. */
  private readonly ever: boolean[] = [];

  constructor(private readonly include: (url: string) => boolean = isWireSource) {}

  /** Starts counting. Call before the modules under test are imported, then take() once. */
  start(): void {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  stop(): void {
    this.post('Profiler.stopPreciseCoverage');
    this.session.disconnect();
  }

  /** The coverage since the last take (counts reset). */
  take(): Take {
    const { result } = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    const features: number[] = [];
    let work = 0;
    for (const sc of result) {
      if (!this.include(sc.url)) continue;
      const script = this.script(sc.url);
      const reported: Range[] = [];
      for (const fn of sc.functions) for (const r of fn.ranges) reported.push(r);
      this.learn(script, reported);
      reported.sort(byPosition);
      // Sweep both sorted lists; the stack holds the reported ranges around the current position.
      const stack: Range[] = [];
      let i = 0;
      for (const block of script.blocks) {
        while (
          i < reported.length &&
          (reported[i]!.startOffset < block.start ||
            (reported[i]!.startOffset === block.start && reported[i]!.endOffset >= block.end))
        ) {
          const r = reported[i++]!;
          while (stack.length > 0 && stack[stack.length - 1]!.endOffset < r.endOffset) stack.pop();
          stack.push(r);
        }
        while (stack.length > 0 && stack[stack.length - 1]!.endOffset < block.end) stack.pop();
        const count = stack.length > 0 ? stack[stack.length - 1]!.count : 0;
        if (count === 0) continue;
        work += count;
        this.ever[block.id] = true;
        features.push(block.id * 8 + bucket(count));
      }
    }
    return { features, work };
  }

  summary(): CoverageSummary {
    let blocksKnown = 0;
    let blocksCovered = 0;
    let bytesCovered = 0;
    let bytesTotal = 0;
    const files: { url: string; percent: number }[] = [];
    for (const script of this.scripts.values()) {
      // Paint parents first, children over them: a byte counts as its innermost block does.
      const painted = new Uint8Array(script.length);
      for (const block of script.blocks) {
        painted.fill(this.ever[block.id] ? 1 : 0, block.start, Math.min(block.end, script.length));
        blocksKnown++;
        if (this.ever[block.id]) blocksCovered++;
      }
      let covered = 0;
      for (const b of painted) covered += b;
      bytesCovered += covered;
      bytesTotal += script.length;
      files.push({ url: script.url, percent: script.length === 0 ? 0 : (100 * covered) / script.length });
    }
    return { blocksCovered, blocksKnown, bytesCovered, bytesTotal, files };
  }

  private script(url: string): Script {
    let script = this.scripts.get(url);
    if (script === undefined) {
      script = { url, blocks: [], keys: new Set(), length: 0 };
      this.scripts.set(url, script);
    }
    return script;
  }

  /** Adds the ranges not seen before to the script's known blocks. */
  private learn(script: Script, reported: readonly Range[]): void {
    let added = false;
    for (const r of reported) {
      if (r.endOffset > script.length) script.length = r.endOffset;
      const key = `${r.startOffset}:${r.endOffset}`;
      if (script.keys.has(key)) continue;
      script.keys.add(key);
      script.blocks.push({ start: r.startOffset, end: r.endOffset, id: this.ever.length });
      this.ever.push(false);
      added = true;
    }
    if (added) script.blocks.sort((a, b) => a.start - b.start || b.end - a.end);
  }

  private post(method: string, params: object = {}): unknown {
    // A session on the same thread answers synchronously, before post() returns.
    let result: unknown;
    let error: Error | null = null;
    this.session.post(method, params, (err, res) => {
      error = err;
      result = res;
    });
    if (error !== null) throw error;
    return result;
  }
}

function byPosition(a: Range, b: Range): number {
  return a.startOffset - b.startOffset || b.endOffset - a.endOffset;
}

/** libFuzzer's count buckets: 1, 2, 3, 4–7, 8–15, 16–31, 32–127, 128+. */
function bucket(count: number): number {
  if (count < 4) return count - 1;
  if (count < 8) return 3;
  if (count < 16) return 4;
  if (count < 32) return 5;
  return count < 128 ? 6 : 7;
}
