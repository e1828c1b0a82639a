import { msg, str } from '@lit/localize';
import type { FromWorker, ToWorker } from '../protocol.js';

interface WorkerClientEvents {
  message(message: FromWorker): void;
  /** The worker died (uncaught error, out of memory, terminated) and a fresh one was started. */
  restarted(reason: string): void;
}

/**
 * The page's end of the worker: typed messages, and a replacement worker started at once when
 * the old one crashes (the page then sends its state again).
 */
export class WorkerClient {
  private worker: Worker;
  private restarts = 0;

  constructor(
    private readonly create: () => Worker,
    private readonly events: WorkerClientEvents,
  ) {
    this.worker = this.spawn();
  }

  get restartCount(): number {
    return this.restarts;
  }

  send(message: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  /** Ends the worker as a crash would, then recovers (used by the crash test and the watchdog). */
  restart(reason: string): void {
    this.worker.terminate();
    this.restarts++;
    this.worker = this.spawn();
    this.events.restarted(reason);
  }

  terminate(): void {
    this.worker.terminate();
  }

  private spawn(): Worker {
    const worker = this.create();
    worker.onmessage = (e: MessageEvent<FromWorker>) => this.events.message(e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      if (worker === this.worker) this.restart(msg(str`the worker crashed: ${e.message || msg('unknown error')}`));
    };
    worker.onmessageerror = () => {
      if (worker === this.worker) this.restart(msg('the worker sent an unreadable message'));
    };
    return worker;
  }
}
