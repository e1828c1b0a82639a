import { describe, expect, it, vi } from 'vitest';
import type { FromWorker, ToWorker } from '../../src/protocol.js';
import { WorkerClient } from '../../src/app/worker-client.js';

/** A stand-in for a dedicated Worker: records what it is sent, and lets the test fire its events. */
class FakeWorker {
  readonly sent: { message: unknown; transfer: Transferable[] }[] = [];
  terminated = false;
  onmessage: ((e: MessageEvent<FromWorker>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  onmessageerror: (() => void) | null = null;

  postMessage(message: unknown, transfer: Transferable[]): void {
    this.sent.push({ message, transfer });
  }

  terminate(): void {
    this.terminated = true;
  }

  reply(message: FromWorker): void {
    this.onmessage!({ data: message } as MessageEvent<FromWorker>);
  }

  /** An uncaught error inside the worker; returns whether the page stopped it reaching the console. */
  crash(text: string): boolean {
    let prevented = false;
    this.onerror!({
      message: text,
      preventDefault: () => {
        prevented = true;
      },
    } as unknown as ErrorEvent);
    return prevented;
  }
}

function connect() {
  const workers: FakeWorker[] = [];
  const events = { message: vi.fn<(m: FromWorker) => void>(), restarted: vi.fn<(reason: string) => void>() };
  const client = new WorkerClient(() => {
    const w = new FakeWorker();
    workers.push(w);
    return w as unknown as Worker;
  }, events);
  return { client, workers, events };
}

describe('WorkerClient', () => {
  it('sends typed messages with their transfer list, and passes the worker’s messages on', () => {
    const { client, workers, events } = connect();
    expect(workers).toHaveLength(1);
    const settings: ToWorker = { type: 'settings', settings: { method: 'cam' } };
    const buffer = new ArrayBuffer(8);
    client.send(settings, [buffer]);
    client.send({ type: 'camera' });
    expect(workers[0]!.sent).toEqual([
      { message: settings, transfer: [buffer] },
      { message: { type: 'camera' }, transfer: [] },
    ]);
    workers[0]!.reply({ type: 'alive' });
    workers[0]!.reply({ type: 'frame-ack', frameId: 4, streamId: 1, outcome: 'dropped', reason: 'paused' });
    expect(events.message.mock.calls.map(([m]) => m.type)).toEqual(['alive', 'frame-ack']);
    expect(events.restarted).not.toHaveBeenCalled();
  });

  it('replaces a crashed worker at once, says why, and sends to the new one', () => {
    const { client, workers, events } = connect();
    expect(workers[0]!.crash('out of memory')).toBe(true);
    expect(workers).toHaveLength(2);
    expect(workers[0]!.terminated).toBe(true);
    expect(events.restarted).toHaveBeenCalledExactlyOnceWith('the worker crashed: out of memory');
    expect(client.restartCount).toBe(1);
    client.send({ type: 'camera' });
    expect(workers[0]!.sent).toEqual([]);
    expect(workers[1]!.sent).toHaveLength(1);
    // The new worker's messages come through; late events of the old one change nothing.
    workers[1]!.reply({ type: 'alive' });
    expect(events.message).toHaveBeenCalledTimes(1);
    workers[0]!.crash('again');
    workers[0]!.onmessageerror!();
    expect(workers).toHaveLength(2);
    expect(client.restartCount).toBe(1);
  });

  it('restarts on an unreadable message and on request (the watchdog), and terminates', () => {
    const { client, workers, events } = connect();
    workers[0]!.onmessageerror!();
    expect(events.restarted).toHaveBeenLastCalledWith('the worker sent an unreadable message');
    client.restart('no heartbeat for 5 s');
    expect(events.restarted).toHaveBeenLastCalledWith('no heartbeat for 5 s');
    expect(workers.map((w) => w.terminated)).toEqual([true, true, false]);
    expect(client.restartCount).toBe(2);
    expect(workers[2]!.crash('')).toBe(true);
    expect(events.restarted).toHaveBeenLastCalledWith('the worker crashed: unknown error');
    client.terminate();
    expect(workers[3]!.terminated).toBe(true);
  });
});
