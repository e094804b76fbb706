/**
 * A small seeded PRNG (xorshift32) and an input hash, so every fuzz check is a pure function of
 * its input: a crash replays exactly from the saved bytes, with the same random splits.
 */

/** Deterministic pseudo-random numbers; not for anything but test-case generation. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** A uint32. */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }

  /** An integer in [0, n); 0 when n ≤ 0. */
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }

  /** True with probability 1/n. */
  oneIn(n: number): boolean {
    return this.below(n) === 0;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}

/** FNV-1a over the bytes: the seed of the Rng a check uses for one input. */
export function hashBytes(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
