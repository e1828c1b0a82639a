import fs from 'node:fs';
import type { Browser, Page } from '@playwright/test';

/**
 * What the page's main thread did between two `performance.mark`s, from a Chromium trace: every
 * task with its wall-clock length and the CPU time the main thread spent on it.
 *
 * A long task (PerformanceObserver 'longtask') is measured in wall-clock time: on a busy two-core
 * machine an ordinary 5 ms frame that waits for a core reads as 60 ms. The trace's thread time
 * (`tdur`) says how long the page's own work kept the main thread busy, whatever the load.
 */
export interface MainThreadTask {
  /** Milliseconds after the start mark. */
  at: number;
  wallMs: number;
  cpuMs: number;
}

/** The trace categories that hold the main thread's tasks (with thread time) and the page's marks. */
const CATEGORIES = ['disabled-by-default-devtools.timeline', 'blink.user_timing'];

export async function startMainThreadTrace(browser: Browser, page: Page, file: string): Promise<void> {
  await browser.startTracing(page, { path: file, categories: CATEGORIES });
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string; data?: { frames?: { processId: number; isOutermostMainFrame?: boolean }[] } };
}

/** Stops the trace and returns the page's main-thread tasks that overlap [`from`, `to`] (two mark names). */
export async function stopMainThreadTrace(
  browser: Browser,
  file: string,
  from: string,
  to: string,
): Promise<MainThreadTask[]> {
  await browser.stopTracing();
  const events = (JSON.parse(fs.readFileSync(file, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
  const frames = events.find((e) => e.name === 'TracingStartedInBrowser')?.args?.data?.frames ?? [];
  const pid = (frames.find((f) => f.isOutermostMainFrame) ?? frames[0])?.processId;
  const main = events.find(
    (e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === pid && e.args?.name === 'CrRendererMain',
  );
  const mark = (name: string): number => {
    const m = events.find((e) => e.name === name && e.pid === pid);
    if (!m) throw new Error(`the trace has no mark ${name}`);
    return m.ts;
  };
  if (!main) throw new Error("the trace has no main thread for the page's renderer");
  const start = mark(from);
  const end = mark(to);
  return events
    .filter(
      (e) =>
        e.name === 'RunTask' &&
        e.ph === 'X' &&
        e.pid === main.pid &&
        e.tid === main.tid &&
        e.dur !== undefined &&
        e.ts + e.dur >= start &&
        e.ts <= end,
    )
    .map((e) => ({ at: (e.ts - start) / 1000, wallMs: e.dur! / 1000, cpuMs: (e.tdur ?? e.dur!) / 1000 }));
}
