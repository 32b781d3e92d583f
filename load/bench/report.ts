/** Medians over runs, ratios between subjects, and the goals marked met/missed. */
import { formatTable } from '../driver/rate-limit-report.ts';

export type Metrics = Record<string, number>;
/** results[scenario][subject] = one Metrics per run */
export type Results = Record<string, Record<string, Metrics[]>>;

export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export function med(results: Results, scenario: string, subject: string, metric: string): number {
  return median((results[scenario]?.[subject] ?? []).map((m) => m[metric]));
}

/** worst case over runs (for loss: any run losing a message counts) */
export function worst(results: Results, scenario: string, subject: string, metric: string): number {
  const v = (results[scenario]?.[subject] ?? []).map((m) => m[metric]).filter(Number.isFinite);
  return v.length ? Math.max(...v) : NaN;
}

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(digits)) : 'n/a');

export function scenarioTable(results: Results, scenario: string, columns: [string, string, number?][]): string {
  const subjects = Object.keys(results[scenario] ?? {});
  return formatTable(subjects.map((s) => {
    const row: Record<string, string> = { [scenario]: s };
    for (const [label, metric, digits] of columns) row[label] = fmt(med(results, scenario, s, metric), digits ?? 1);
    return row;
  }));
}

export interface Goal {
  goal: string;
  measured: string;
  met: boolean | null;
  /** the same figure for Soketi, for reference (not a goal) */
  soketi?: string;
  /** the same figure for the floor of a durable send, for reference: uws-durable (servers/uws-durable.ts) on WebSocket lines, contract+store (servers/contract-only.ts --store) on REST sendMessage */
  floor?: string;
  /** the same for the contract floor (uws-contract: the durable floor plus the per-send work the AsyncAPI contract asks for, done directly), WebSocket lines */
  contract?: string;
}

export function ratio(results: Results, scenario: string, metric: string, a: string, b: string): number {
  return med(results, scenario, a, metric) / med(results, scenario, b, metric);
}

export function goalTable(goals: Goal[]): string {
  return formatTable(goals.map((g) => ({
    goal: g.goal, measured: g.measured, status: g.met === null ? 'n/a' : g.met ? 'MET' : 'MISSED', 'soketi (ref)': g.soketi ?? '',
    ...(goals.some((x) => x.contract) ? { 'contract floor (ref)': g.contract ?? '' } : {}),
    ...(goals.some((x) => x.floor) ? { 'durable floor (ref)': g.floor ?? '' } : {}),
  })));
}

export function atLeast(goal: string, value: number, bound: number): Goal {
  return { goal, measured: Number.isFinite(value) ? `${fmt(value, 2)}×` : 'n/a', met: Number.isFinite(value) ? value >= bound : null };
}

export function atMost(goal: string, value: number, bound: number, unit = '×'): Goal {
  return { goal, measured: Number.isFinite(value) ? `${fmt(value, 2)}${unit}` : 'n/a', met: Number.isFinite(value) ? value <= bound : null };
}

export { fmt };

/**
 * One metric across sizes: a row per subject, a column per size (`${prefix} ${size}` scenarios),
 * and how it grew from the smallest to the largest size. perUnit: the growth column compares
 * the metric divided by the size (1.0× = linear; a quadratic cost grows with the size ratio).
 */
export function growthTable(results: Results, prefix: string, sizes: number[], metric: string, label: string,
  opts: { digits?: number; perUnit?: boolean } = {}): string {
  const subjects = [...new Set(sizes.flatMap((n) => Object.keys(results[`${prefix} ${n}`] ?? {})))];
  if (!subjects.length) return '';
  const first = sizes[0];
  const last = sizes[sizes.length - 1];
  const growth = `${opts.perUnit ? 'per-unit growth' : 'growth'} ${first.toLocaleString('en-US')}→${last.toLocaleString('en-US')}`;
  return formatTable(subjects.map((subject) => {
    const row: Record<string, string> = { [label]: subject };
    for (const n of sizes) row[`n=${n.toLocaleString('en-US')}`] = fmt(med(results, `${prefix} ${n}`, subject, metric), opts.digits ?? 1);
    const [a, b] = [med(results, `${prefix} ${first}`, subject, metric), med(results, `${prefix} ${last}`, subject, metric)];
    const g = (b / a) * (opts.perUnit ? first / last : 1);
    row[growth] = a > 0 && b >= 0 && Number.isFinite(g) ? `${g.toFixed(2)}×` : 'n/a'; // RSS deltas can come out negative
    return row;
  }));
}
