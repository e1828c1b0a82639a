import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { NoticeAction } from '../notice.js';

export interface Notice {
  message: string;
  hint: string;
  kind: 'error' | 'info';
  actions: NoticeAction[];
  /** One notice per topic; it is removed when the thing it reports is over (camera back, worker restarted…). */
  topic: string;
}

/** The messages on screen: at most one per topic, newest last; timed removals are cancelled on disconnect. */
export class NoticesController implements ReactiveController {
  private list: Notice[] = [];
  private readonly timers = new Map<string, number>();

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  get all(): readonly Notice[] {
    return this.list;
  }

  has(topic: string): boolean {
    return this.list.some((n) => n.topic === topic);
  }

  /** The first error on screen, for the automation API. */
  get error(): string | null {
    return this.list.find((n) => n.kind === 'error')?.message ?? null;
  }

  show(notice: Notice): void {
    this.cancelTimer(notice.topic);
    this.list = [...this.list.filter((n) => n.topic !== notice.topic), notice];
    this.host.requestUpdate();
  }

  drop(topic: string): void {
    this.cancelTimer(topic);
    if (!this.has(topic)) return;
    this.list = this.list.filter((n) => n.topic !== topic);
    this.host.requestUpdate();
  }

  /** Removes a notice after a while, so that it can be read first. */
  dropLater(topic: string, ms: number): void {
    if (!this.has(topic) || this.timers.has(topic)) return;
    this.timers.set(
      topic,
      window.setTimeout(() => {
        this.timers.delete(topic);
        this.drop(topic);
      }, ms),
    );
  }

  hostDisconnected(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private cancelTimer(topic: string): void {
    const timer = this.timers.get(topic);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(topic);
  }
}
