/**
 * Open-model load: each stream sends request i at t0 + i/rate, whether or not earlier requests
 * have been answered (like k6's constant-arrival-rate). Bounded in count (rate × duration),
 * in concurrency (maxInFlight; an arrival that finds no slot is dropped and counted) and in
 * time (requests still open `graceMs` after the last arrival are abandoned and counted).
 * The scheduler records how late each request left, so the caller can prove the offered load
 * was really offered: a slow driver must not pass as a good limiter.
 */
export interface StreamSpec<T> {
  name: string;
  /** arrivals per second */
  rate: number;
  /** sends one request; must not throw for HTTP-level failures (return them) */
  send(index: number): Promise<T>;
}

export interface StreamResult<T> {
  name: string;
  target: number;
  /** requests actually sent */
  sent: number;
  /** arrivals dropped because maxInFlight was reached */
  dropped: number;
  /** requests that threw (network errors, timeouts) */
  failed: number;
  /** requests still open at the end */
  abandoned: number;
  /** target rate, per second */
  rate: number;
  /** sent requests that left on time (lag ≤ onTimeMs) per second of the window */
  achievedRate: number;
  lagP99Ms: number;
  results: T[];
  errors: string[];
}

export interface OpenModelOptions {
  durationMs: number;
  maxInFlight?: number;
  graceMs?: number;
  /** a request leaving later than this after its slot does not count towards the achieved rate */
  onTimeMs?: number;
}

export async function runOpenModel<T>(streams: StreamSpec<T>[], opts: OpenModelOptions): Promise<StreamResult<T>[]> {
  const maxInFlight = opts.maxInFlight ?? 1000;
  const onTimeMs = opts.onTimeMs ?? 50;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  const state = streams.map((s) => ({
    spec: s,
    total: Math.floor((s.rate * opts.durationMs) / 1000),
    next: 0,
    r: {
      name: s.name, target: Math.floor((s.rate * opts.durationMs) / 1000), sent: 0, dropped: 0, failed: 0,
      abandoned: 0, rate: s.rate, achievedRate: 0, lagP99Ms: 0, results: [] as T[], errors: [] as string[],
    } satisfies StreamResult<T>,
    lags: [] as number[],
    onTime: 0,
    open: 0,
  }));
  const t0 = performance.now() + 20;
  const slot = (rate: number, i: number) => t0 + (i * 1000) / rate;

  const dispatch = (st: (typeof state)[number], i: number, lag: number) => {
    st.lags.push(lag);
    if (inFlight >= maxInFlight) { st.r.dropped++; return; }
    st.r.sent++;
    if (lag <= onTimeMs) st.onTime++;
    inFlight++;
    st.open++;
    const p: Promise<void> = st.spec.send(i).then(
      (res) => { st.r.results.push(res); },
      (err: Error) => { st.r.failed++; if (st.r.errors.length < 10) st.r.errors.push(err.message); },
    ).finally(() => { inFlight--; st.open--; pending.delete(p); });
    pending.add(p);
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      let nextDue = Infinity;
      for (const st of state) {
        while (st.next < st.total && slot(st.spec.rate, st.next) <= now) {
          dispatch(st, st.next, now - slot(st.spec.rate, st.next));
          st.next++;
        }
        if (st.next < st.total) nextDue = Math.min(nextDue, slot(st.spec.rate, st.next));
      }
      if (nextDue === Infinity) return resolve();
      setTimeout(tick, Math.max(0, nextDue - performance.now()));
    };
    setTimeout(tick, Math.max(0, t0 - performance.now()));
  });

  const grace = opts.graceMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled([...pending]),
    new Promise((resolve) => { timer = setTimeout(resolve, grace); }),
  ]);
  clearTimeout(timer);

  return state.map((st) => {
    st.r.abandoned = st.open;
    st.lags.sort((a, b) => a - b);
    st.r.lagP99Ms = st.lags.length ? st.lags[Math.min(st.lags.length - 1, Math.ceil(st.lags.length * 0.99) - 1)] : 0;
    st.r.achievedRate = st.onTime / (opts.durationMs / 1000);
    return st.r;
  });
}
