// random.ts: the chaos run's seeded randomness (pure-rand's xoroshiro128+): one stream for the
// workload and one for the faults, so the same seed gives the same plan of each.
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import type { RandomGenerator } from "pure-rand/types/RandomGenerator";

export class Random {
  readonly #rng: RandomGenerator;

  constructor(seed: number) {
    this.#rng = xoroshiro128plus(seed);
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return uniformInt(this.#rng, min, max);
  }

  /** A float in [min, max). */
  between(min: number, max: number): number {
    return min + uniformFloat64(this.#rng) * (max - min);
  }

  chance(probability: number): boolean {
    return uniformFloat64(this.#rng) < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[this.int(0, items.length - 1)]!;
  }

  /** One of `weights`' keys, each as likely as its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    let roll = this.between(0, entries.reduce((sum, [, w]) => sum + w, 0));
    for (const [key, weight] of entries) {
      roll -= weight;
      if (roll < 0) return key;
    }
    return entries.at(-1)![0];
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

/** Two independent streams from one seed: the workload's plan does not shift with the faults'. */
export function streams(seed: number): { workload: Random; faults: Random } {
  return { workload: new Random(seed), faults: new Random((seed ^ 0x5bd1e995) >>> 0) };
}
