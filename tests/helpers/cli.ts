import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './shared.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (`bin/whycam.js`) as a user would, with extra environment variables. */
export function whycam(args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'whycam.js'), ...args], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
