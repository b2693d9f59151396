/**
 * The per-decision counts of the metrics, kept where a decision can bump them cheaply and handed to
 * prom-client when the registry is read (a scrape, `text()`, `getMetricsAsJSON`). prom-client's
 * `inc(labels)` and `observe(value)` build a key string from the labels, validate them and look the
 * series up on every call — about 0.2 µs each on the benchmark machine, or a few percent of a
 * decision per counter. Here a decision walks a small tree of maps by its label values to its cell
 * and adds one; the registry's read adds each cell's growth since the last read to the prom-client
 * counter (its `collect` hook), so the exposition stays prom-client's own.
 */
import type { Counter, Registry } from "prom-client";

interface Cell {
  readonly labels: Record<string, string>;
  count: number;
  reported: number;
}

type Level = Map<string, Level | Cell>;

/**
 * The cells of one prom-client counter, one per set of label values seen. `add` takes the label
 * values in the order of `labelNames`; `flush` adds what grew since the last flush to the counter.
 */
export class CounterCells {
  private readonly root: Level = new Map();
  private readonly cells: Cell[] = [];

  constructor(
    private readonly counter: Counter<string>,
    private readonly labelNames: readonly string[],
  ) {}

  /** One more for these label values (as many as the counter has label names, at most four). */
  add(a: string, b?: string, c?: string, d?: string): void {
    const depth = this.labelNames.length;
    let level = this.root;
    if (depth > 1) level = step(level, a);
    if (depth > 2) level = step(level, b as string);
    if (depth > 3) level = step(level, c as string);
    const last = (depth === 1 ? a : depth === 2 ? b : depth === 3 ? c : d) as string;
    let cell = level.get(last) as Cell | undefined;
    if (cell === undefined) {
      const values = [a, b, c, d];
      const labels = Object.fromEntries(this.labelNames.map((name, i) => [name, values[i] as string]));
      level.set(last, (cell = { labels, count: 0, reported: 0 }));
      this.cells.push(cell);
    }
    cell.count++;
  }

  /** Adds each cell's growth since the last flush to the counter. */
  flush(): void {
    for (const cell of this.cells) {
      const grown = cell.count - cell.reported;
      if (grown === 0) continue;
      cell.reported = cell.count;
      this.counter.inc(cell.labels, grown);
    }
  }
}

function step(level: Level, value: string): Level {
  let next = level.get(value) as Level | undefined;
  if (next === undefined) level.set(value, (next = new Map()));
  return next;
}

/**
 * A histogram without labels whose buckets are counted here, registered on a prom-client registry
 * as a metric of its own: the registry asks it for its values (`get`) in prom-client's form, and
 * writes the exposition (`_bucket` by `le`, `+Inf`, `_sum`, `_count`) as it does for its own
 * histograms.
 */
export class HistogramCells {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly bounds: readonly number[];
  private readonly counts: Float64Array;
  private sum = 0;
  private total = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
    registers: readonly Registry[],
  ) {
    this.bounds = [...new Set(buckets)].sort((x, y) => x - y);
    this.counts = new Float64Array(this.bounds.length);
    for (const registry of registers) registry.registerMetric(this as never);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    if (i < bounds.length) this.counts[i]!++;
    this.sum += value;
    this.total++;
  }

  /** The values as prom-client's own histograms give them to a registry. */
  get(): { name: string; help: string; type: "histogram"; aggregator: "sum"; values: { labels: Record<string, string | number>; value: number; metricName: string }[] } {
    const bucket = `${this.name}_bucket`;
    let cumulative = 0;
    const values = this.bounds.map((le, i) => {
      cumulative += this.counts[i] as number;
      return { labels: { le } as Record<string, string | number>, value: cumulative, metricName: bucket };
    });
    values.push(
      { labels: { le: "+Inf" }, value: this.total, metricName: bucket },
      { labels: {}, value: this.sum, metricName: `${this.name}_sum` },
      { labels: {}, value: this.total, metricName: `${this.name}_count` },
    );
    return { name: this.name, help: this.help, type: "histogram", aggregator: "sum", values };
  }

  /** As `registry.resetMetrics()` resets prom-client's own. */
  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.total = 0;
  }
}
