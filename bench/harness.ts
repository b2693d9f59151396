/**
 * The benchmark harness behind `make bench`. Each suite in bench/suites/ measures in the same
 * run as its baseline and reports medians, p99s and ratios; the runner writes them all to
 * bench/results/latest.json and latest.md. Figures are never asserted in tests: a ratio may carry
 * a target, and the table says whether this run met it.
 */
import { Bench } from "tinybench";
import type { Input } from "../src/contracts/input.js";

export interface Measurement {
  /** What was measured, e.g. "stepup decide (validation included)". */
  readonly name: string;
  readonly median_us: number;
  readonly p99_us: number;
  readonly samples: number;
  /** Operations per second, where throughput rather than latency is the point. */
  readonly ops_per_s?: number;
}

export interface Ratio {
  readonly name: string;
  readonly value: number;
  /** The goal, stated as text (e.g. "≤ 1.5"), and whether this run met it. */
  readonly target?: string;
  readonly met?: boolean;
}

export interface SuiteResult {
  readonly suite: string;
  readonly measurements: Measurement[];
  readonly ratios: Ratio[];
  readonly notes: string[];
  /** Files beside the table (a chart), by name; the runner writes them to the results folder. */
  readonly files?: Readonly<Record<string, string>>;
}

export interface BenchContext {
  /** The bundle built for this run. */
  readonly bundlePath: string;
  /** The same bundle with OPA's wasm as `opa build` wrote it (no binaryen), to price the optimizer. */
  readonly asBuiltBundlePath: string;
  /** The fixed corpus: every scenario's input, validated. */
  readonly corpus: readonly Input[];
  /** A shorter run (BENCH_QUICK=1), for checking the harness itself. */
  readonly quick: boolean;
}

export interface Suite {
  readonly name: string;
  run(ctx: BenchContext): Promise<SuiteResult>;
}

export interface TimeOptions {
  /** Milliseconds to measure each task in all (after warm-up), spread over the rounds. */
  readonly time?: number;
  readonly warmupTime?: number;
  /**
   * The tasks take turns this many times, each round measuring every task for time/rounds: on
   * a shared machine, load that comes and goes then falls on all of them alike, so their ratios
   * hold even when the absolute figures move.
   */
  readonly rounds?: number;
}

/**
 * Measures synchronous or asynchronous tasks with tinybench, in interleaved rounds (see
 * `TimeOptions.rounds`); each call of `fn` is one sample, and the median and p99 are taken over
 * the samples of all rounds.
 */
export async function measure(
  tasks: Record<string, () => unknown>,
  ctx: BenchContext,
  options: TimeOptions = {},
): Promise<Measurement[]> {
  const rounds = options.rounds ?? (ctx.quick ? 2 : 8);
  const time = (options.time ?? (ctx.quick ? 200 : 2_000)) / rounds;
  const samples = new Map<string, number[]>(Object.keys(tasks).map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({
      time,
      warmupTime: round === 0 ? (options.warmupTime ?? (ctx.quick ? 50 : 500)) : 0,
      warmup: round === 0,
      retainSamples: true,
      throws: true,
    });
    // Each round starts with a different task, so none always runs first.
    const names = Object.keys(tasks);
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length]!;
      bench.add(name, tasks[name]!);
    }
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      if (result.state !== "completed") throw new Error(`benchmark ${task.name} did not complete: ${result.state}`);
      // A loop, not a spread: fast tasks leave more samples than a call takes arguments.
      const kept = samples.get(task.name)!;
      for (const sample of result.latency.samples ?? []) kept.push(sample);
    }
  }
  return Object.keys(tasks).map((name) => {
    const sorted = samples.get(name)!.sort((a, b) => a - b);
    return {
      name,
      median_us: quantile(sorted, 0.5) * 1000,
      p99_us: quantile(sorted, 0.99) * 1000,
      samples: sorted.length,
    };
  });
}

/** The q-quantile of ascending samples, interpolated. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error("no samples");
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

/**
 * Whole runs of `items` operations each, as a row: µs per operation in the median run, the slowest
 * run as p99, and operations per second at the median.
 */
export function perItem(name: string, ms: readonly number[], items: number): Measurement {
  const sorted = [...ms].sort((x, y) => x - y);
  const median = quantile(sorted, 0.5);
  return { name, median_us: (median * 1000) / items, p99_us: (sorted.at(-1)! * 1000) / items, samples: ms.length, ops_per_s: (items * 1000) / median };
}

/**
 * The median over rounds of `slow[i] / fast[i]`: each round's pair compared with each other, so
 * the host's slow swings (its neighbours) fall out of every pair.
 */
export function pairedSpeedup(slow: readonly number[], fast: readonly number[]): number {
  return quantile(slow.map((ms, i) => ms / fast[i]!).sort((x, y) => x - y), 0.5);
}

/** A ratio of two measurements' medians (or of any two numbers), with an optional target. */
export function ratio(name: string, value: number, target?: { text: string; met: (v: number) => boolean }): Ratio {
  const rounded = Math.round(value * 100) / 100;
  return target ? { name, value: rounded, target: target.text, met: target.met(value) } : { name, value: rounded };
}

/** Cycles through the corpus, one input per call, so no single input is measured alone. */
export function cycle<T>(items: readonly T[]): () => T {
  if (items.length === 0) throw new Error("empty corpus");
  let i = 0;
  return () => {
    const item = items[i] as T;
    i = (i + 1) % items.length;
    return item;
  };
}
