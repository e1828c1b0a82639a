import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * How every automated WebKit here starts (browser tests, benchmarks): Debian's WebKitGTK
 * MiniBrowser driven by its WebKitWebDriver over plain W3C WebDriver (HTTP + JSON), under a
 * virtual X display of its own. Nothing is downloaded; the client is the few endpoints we use.
 */
export const WEBKIT_DRIVER = process.env['WEBKIT_DRIVER'] ?? '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = process.env['MINIBROWSER'] ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const XVFB = process.env['XVFB'] ?? '/usr/bin/Xvfb';

export interface WebKitOptions {
  /** The camera: WebKit's mock device (GStreamer's test pattern, 640×480), or none at all. */
  camera?: 'mock' | null;
  /** Extra WebKit features, e.g. `+MediaStreamTrackProcessing` (Safari 18's worker track processor). */
  features?: string[];
  /** Accelerated compositing (off by default: see `launchWebKit`). */
  compositing?: boolean;
  /** The page's viewport, CSS pixels. */
  width?: number;
  height?: number;
}

/** MiniBrowser's switches: automation, media, and the camera as asked. */
export function miniBrowserArgs({ camera = 'mock', features = [] }: WebKitOptions = {}): string[] {
  const args = [
    '--automation',
    `--enable-media-stream=${camera !== null}`,
    `--enable-mock-capture-devices=${camera === 'mock'}`,
    '--enable-webgl=true',
    '--media-playback-requires-user-gesture=false',
    '--enable-write-console-messages-to-stdout=true',
  ];
  if (features.length) args.push(`--features=${features.join(',')}`);
  return args;
}

/** The key under which W3C WebDriver passes an element reference. */
const ELEMENT_KEY = 'element-6066-11e4-a52e-4f735466cecf';

/** A WebDriver error, with the driver's own error name and message. */
export class WebDriverError extends Error {
  constructor(
    readonly error: string,
    message: string,
  ) {
    super(`${error}: ${message}`);
  }
}

/** One WebDriver session: the endpoints the tests and benchmarks use. */
export class WebKitPage {
  constructor(
    private readonly base: string,
    readonly sessionId: string,
  ) {}

  private async command<T>(method: 'GET' | 'POST' | 'DELETE', route: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.base}/session/${this.sessionId}${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json()) as { value: T | { error: string; message: string } };
    if (!response.ok) {
      const e = json.value as { error: string; message: string };
      throw new WebDriverError(e.error ?? String(response.status), e.message ?? '');
    }
    return json.value as T;
  }

  goto(url: string): Promise<void> {
    return this.command('POST', '/url', { url });
  }

  url(): Promise<string> {
    return this.command('GET', '/url');
  }

  /**
   * Runs a function in the page and returns its (JSON) result; async functions are awaited.
   * The function is sent as source text, so it may use only its arguments.
   */
  async evaluate<R, A extends unknown[]>(fn: (...args: A) => R | Promise<R>, ...args: A): Promise<R> {
    const script = `const done = arguments[arguments.length - 1];
      Promise.resolve().then(() => (${fn.toString()})(...Array.from(arguments).slice(0, -1)))
        .then((value) => done(JSON.stringify({ value: value === undefined ? null : value })),
              (e) => done(JSON.stringify({ error: String(e && e.stack ? e.message + '\\n' + e.stack : e) })));`;
    // The result crosses as JSON text: WebKitWebDriver's own serialisation rejects some values.
    const text = await this.command<string>('POST', '/execute/async', { script, args });
    const out = JSON.parse(text) as { value?: R; error?: string };
    if (out.error !== undefined) throw new Error(`in the page: ${out.error}`);
    return out.value as R;
  }

  /** The page's viewport as a PNG. */
  async screenshot(): Promise<Buffer> {
    return Buffer.from(await this.command<string>('GET', '/screenshot'), 'base64');
  }

  /** The page's viewport size, CSS pixels: the window is sized so (MiniBrowser's toolbar takes some of it). */
  async setViewport(width: number, height: number): Promise<void> {
    await this.command('POST', '/window/rect', { width, height, x: 0, y: 0 });
    const inner = await this.evaluate(() => [innerWidth, innerHeight]);
    if (inner[0] === width && inner[1] === height) return;
    await this.command('POST', '/window/rect', {
      width: width + (width - inner[0]!),
      height: height + (height - inner[1]!),
      x: 0,
      y: 0,
    });
  }

  /** The element's id for the W3C element commands, found by a CSS selector through shadow roots. */
  async element(script: string): Promise<string> {
    const value = await this.command<Record<string, string>>('POST', '/execute/sync', {
      script: `return (${script})`,
      args: [],
    });
    const id = value?.[ELEMENT_KEY];
    if (!id) throw new Error(`no element for ${script}`);
    return id;
  }

  /**
   * A real click (the driver's pointer) at the element's centre, scrolled to the middle of its
   * scrolling box first (the driver scrolls only the page, not a panel that scrolls on its own).
   */
  async click(elementId: string): Promise<void> {
    await this.command('POST', '/execute/sync', {
      script: "arguments[0].scrollIntoView({ block: 'center' });",
      args: [{ [ELEMENT_KEY]: elementId }],
    });
    await this.command('POST', `/element/${elementId}/click`, {});
  }

  /** Keys typed into the focused element (`\uE00C` is Escape, as in WebDriver). */
  async keys(text: string): Promise<void> {
    await this.command('POST', '/actions', {
      actions: [
        {
          type: 'key',
          id: 'keyboard',
          actions: [...text].flatMap((c) => [
            { type: 'keyDown', value: c },
            { type: 'keyUp', value: c },
          ]),
        },
      ],
    });
  }

  close(): Promise<void> {
    return fetch(`${this.base}/session/${this.sessionId}`, { method: 'DELETE' }).then(() => undefined);
  }
}

export interface WebKitSession {
  page: WebKitPage;
  /** What the browser printed (console messages go to its stdout). */
  output(): string;
  /** Ends the session, the driver and the display, and removes their home folder. */
  close(): Promise<void>;
}

/** A free TCP port on the loopback interface. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts Xvfb on a display it picks itself (`-displayfd`), and resolves with that display's number. */
function startDisplay(): Promise<{ display: string; process: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const xvfb = spawn(XVFB, ['-displayfd', '1', '-screen', '0', '1600x1200x24', '-nolisten', 'tcp'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    xvfb.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /^(\d+)\n/.exec(text);
      if (match) resolve({ display: `:${match[1]}`, process: xvfb });
    });
    xvfb.once('error', (e) => reject(new Error(`Xvfb could not start (${e.message}): apt-get install xvfb`)));
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited with ${code} before it had a display`)));
  });
}

async function waitForDriver(base: string, driver: ChildProcess, log: () => string): Promise<void> {
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    if (driver.exitCode !== null) throw new Error(`WebKitWebDriver exited with ${driver.exitCode}: ${log()}`);
    const ready = await fetch(`${base}/status`)
      .then((r) => r.json() as Promise<{ value?: { ready?: boolean } }>)
      .then((s) => s.value?.ready === true)
      .catch(() => false);
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`WebKitWebDriver did not answer within 30 s: ${log()}`);
}

/**
 * Starts a MiniBrowser under its own Xvfb, through WebKitWebDriver, with a fresh home folder
 * (so no earlier run's service worker, cache or permission carries over).
 */
export async function launchWebKit(options: WebKitOptions = {}): Promise<WebKitSession> {
  for (const [file, fix] of [
    [WEBKIT_DRIVER, 'apt-get install webkit2gtk-driver (or set WEBKIT_DRIVER)'],
    [MINIBROWSER, 'apt-get install webkit2gtk-driver, which brings libwebkit2gtk-4.1 (or set MINIBROWSER)'],
  ] as const) {
    if (!fs.existsSync(file)) throw new Error(`WebKit not found at ${file}: ${fix}.`);
  }
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'whycam-webkit-'));
  const { display, process: xvfb } = await startDisplay();
  const port = await freePort();
  let log = '';
  const driver = spawn(WEBKIT_DRIVER, [`--port=${port}`], {
    env: {
      ...process.env,
      DISPLAY: display,
      HOME: home,
      XDG_CACHE_HOME: path.join(home, 'cache'),
      XDG_DATA_HOME: path.join(home, 'data'),
      XDG_CONFIG_HOME: path.join(home, 'config'),
      // No accessibility bus or dconf in a container: quieter, and no waits for them.
      NO_AT_BRIDGE: '1',
      GSETTINGS_BACKEND: 'memory',
      // Under a virtual display WebKitGTK composites with software GL (Mesa's llvmpipe): ~1 frame
      // per second, a core taken, video frames that must be read back from GL textures, and
      // web-process crashes now and then. Without compositing it paints on the CPU at the display's
      // rate, as a browser with a GPU would (but never calls requestVideoFrameCallback).
      ...(options.compositing ? {} : { WEBKIT_DISABLE_COMPOSITING_MODE: '1' }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer): void => {
    log = (log + chunk.toString()).slice(-200_000);
  };
  driver.stdout!.on('data', keep);
  driver.stderr!.on('data', keep);
  const base = `http://127.0.0.1:${port}`;
  const stopAll = (): void => {
    driver.kill('SIGKILL');
    xvfb.kill('SIGKILL');
    fs.rmSync(home, { recursive: true, force: true });
  };
  try {
    await waitForDriver(base, driver, () => log);
    const response = await fetch(`${base}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        capabilities: {
          alwaysMatch: {
            'webkitgtk:browserOptions': { binary: MINIBROWSER, args: miniBrowserArgs(options) },
          },
        },
      }),
    });
    const json = (await response.json()) as { value: { sessionId?: string; error?: string; message?: string } };
    if (!json.value.sessionId) throw new WebDriverError(json.value.error ?? 'session', json.value.message ?? '');
    const page = new WebKitPage(base, json.value.sessionId);
    await page.setViewport(options.width ?? 1280, options.height ?? 860);
    return {
      page,
      output: () => log,
      async close() {
        await page.close().catch(() => undefined);
        stopAll();
      },
    };
  } catch (e) {
    stopAll();
    throw e;
  }
}
