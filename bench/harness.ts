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
}

export interface BenchContext {
  /** The bundle built for this run. */
  readonly bundlePath: string;
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
  /** Milliseconds to measure (after warm-up). */
  readonly time?: number;
  readonly warmupTime?: number;
}

/**
 * Measures synchronous or asynchronous tasks in one tinybench run, so that they share the
 * machine's state; each call of `fn` is one sample.
 */
export async function measure(
  tasks: Record<string, () => unknown>,
  ctx: BenchContext,
  options: TimeOptions = {},
): Promise<Measurement[]> {
  const bench = new Bench({
    time: options.time ?? (ctx.quick ? 200 : 2_000),
    warmupTime: options.warmupTime ?? (ctx.quick ? 50 : 500),
    throws: true,
  });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  return bench.tasks.map((task) => {
    const result = task.result;
    if (result.state !== "completed") throw new Error(`benchmark ${task.name} did not complete: ${result.state}`);
    return {
      name: task.name,
      median_us: result.latency.p50 * 1000,
      p99_us: result.latency.p99 * 1000,
      samples: result.latency.samplesCount,
    };
  });
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
