import * as tf from '@tensorflow/tfjs-core';

/*
 * Graph capture for the webgpu backend: a frame's plan is a fixed graph with fixed shapes, so the
 * compute dispatches tfjs records for one frame (pipeline, bind group, workgroup counts) can be
 * replayed for the next frames with only the input rewritten. tfjs spends far more CPU time per op
 * (shader key, uniforms, bind group, bookkeeping) than the GPU needs for MobileNet's small kernels;
 * a replay encodes the same dispatches in one command buffer with none of that.
 *
 * What makes a replay valid: every buffer the captured frame touched stays the captured frame's
 * own. tfjs normally returns a disposed tensor's buffer (and each op's uniform buffer) to a pool
 * at once, so a later op of the same frame can reuse it; while capturing, released buffers are
 * held instead, so each bind group keeps seeing the data (uniforms, constants) it saw when
 * captured, and no other tensor can ever be given one of them. They go back to the pool when the
 * graph is disposed.
 */

// WebGPU constants (GPUBufferUsage / GPUMapMode), spelt out so that this module needs no globals.
const USAGE_MAP_READ = 0x0001;
const USAGE_MAP_WRITE = 0x0002;
const USAGE_COPY_DST = 0x0008;
const MAP_MODE_READ = 0x0001;

interface GpuBuffer {
  readonly size: number;
  readonly usage: number;
  mapAsync(mode: number): Promise<undefined>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}
interface GpuComputePass {
  setPipeline(pipeline: unknown): void;
  setBindGroup(index: number, group: unknown): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}
interface GpuCommandEncoder {
  beginComputePass(descriptor?: object): GpuComputePass;
  copyBufferToBuffer(src: GpuBuffer, srcOffset: number, dst: GpuBuffer, dstOffset: number, size: number): void;
  finish(): unknown;
}
interface GpuDevice {
  createCommandEncoder(): GpuCommandEncoder;
  createBuffer(descriptor: { size: number; usage: number }): GpuBuffer;
  readonly queue: {
    submit(buffers: unknown[]): void;
    writeBuffer(buffer: GpuBuffer, offset: number, data: ArrayBufferView): void;
  };
}

/** The parts of tfjs-backend-webgpu's WebGPUBackend this module relies on (tfjs 4.x). */
export interface WebGpuBackendInternals {
  device: GpuDevice;
  commandEncoder: GpuCommandEncoder | null;
  activeTimers?: unknown;
  tensorMap: { get(dataId: tf.DataId): { resource?: unknown } | undefined };
  bufferManager: { releaseBuffer(buffer: GpuBuffer, reuse?: boolean): void };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  uploadToGPU(dataId: tf.DataId): void;
  readSync(dataId: tf.DataId): unknown;
}

/** A frame for a captured graph's input: its RGBA bytes (input [h, w] int32 words), or a tensor of the input's shape. */
export type FrameInput = Uint8Array | Uint8ClampedArray | tf.Tensor;

type Command =
  | { kind: 'dispatch'; pipeline: unknown; bindGroup: unknown; x: number; y: number; z: number }
  | { kind: 'copy'; src: GpuBuffer; srcOffset: number; dst: GpuBuffer; dstOffset: number; size: number };

/** The webgpu backend's internals when the active backend is webgpu and has them; else null. */
export function webGpuInternals(): WebGpuBackendInternals | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const backend = tf.backend() as unknown as Partial<WebGpuBackendInternals>;
  const ok =
    backend.device !== undefined &&
    backend.bufferManager !== undefined &&
    backend.tensorMap !== undefined &&
    typeof backend.ensureCommandEncoderReady === 'function' &&
    typeof backend.submitQueue === 'function' &&
    typeof backend.endComputePassEncoder === 'function' &&
    typeof backend.uploadToGPU === 'function';
  return ok ? (backend as WebGpuBackendInternals) : null;
}

/** Submits whatever tfjs has recorded but not yet submitted, so that the queue order is the program order. */
export function flushBackend(backend: WebGpuBackendInternals): void {
  if (!backend.commandEncoder) return;
  backend.endComputePassEncoder();
  backend.submitQueue();
}

/** The GPU buffer behind a tensor, uploading it first if its values are still on the CPU. */
export function bufferOf(backend: WebGpuBackendInternals, tensor: tf.Tensor): GpuBuffer {
  backend.uploadToGPU(tensor.dataId);
  const resource = backend.tensorMap.get(tensor.dataId)?.resource as GpuBuffer | undefined;
  if (!resource || typeof resource.size !== 'number' || typeof resource.usage !== 'number') {
    throw new Error('graph capture: the tensor is not held in a GPU buffer');
  }
  return resource;
}

/**
 * One captured frame: its input tensor (which each replay rewrites), the recorded dispatches and
 * copies, and its output tensor (read back after each replay).
 */
export class CapturedGraph {
  private busy = false;
  private disposed = false;
  private readonly staging: GpuBuffer;
  private readonly outputBytes: number;

  private constructor(
    private readonly backend: WebGpuBackendInternals,
    private readonly input: tf.Tensor,
    private readonly output: tf.Tensor,
    private readonly commands: readonly Command[],
    private readonly held: readonly [GpuBuffer, boolean | undefined][],
  ) {
    this.outputBytes = output.size * 4;
    this.staging = backend.device.createBuffer({ size: this.outputBytes, usage: USAGE_MAP_READ | USAGE_COPY_DST });
  }

  /** Dispatches per replay (the kernels that do work). */
  get dispatches(): number {
    return this.commands.filter((c) => c.kind === 'dispatch').length;
  }

  /** True while a replay is in flight: a concurrent caller must take the ordinary path. */
  get inUse(): boolean {
    return this.busy;
  }

  /**
   * Runs `build` once on `input` (which the graph then owns, like the output `build` returns) and
   * records what it dispatched. Throws, leaving tfjs as it was, if the work cannot be captured
   * (it read data back to the CPU, or a profiler is timing kernels).
   */
  static capture(
    backend: WebGpuBackendInternals,
    input: tf.Tensor,
    build: (input: tf.Tensor) => tf.Tensor,
  ): CapturedGraph {
    if (backend.activeTimers != null) throw new Error('graph capture: kernels are being timed');
    flushBackend(backend);
    const commands: Command[] = [];
    const held: [GpuBuffer, boolean | undefined][] = [];
    const manager = backend.bufferManager;
    const ensure = backend.ensureCommandEncoderReady;
    const readSync = backend.readSync;
    const release = manager.releaseBuffer;
    manager.releaseBuffer = (buffer, reuse) => {
      held.push([buffer, reuse]);
    };
    backend.readSync = () => {
      throw new Error('graph capture: the plan reads data back to the CPU');
    };
    backend.ensureCommandEncoderReady = () => {
      if (!backend.commandEncoder) backend.commandEncoder = recordingEncoder(backend.device, commands);
    };
    let output: tf.Tensor | undefined;
    try {
      output = build(input);
      bufferOf(backend, output);
      flushBackend(backend);
    } catch (e) {
      output?.dispose();
      flushBackend(backend);
      throw e;
    } finally {
      backend.ensureCommandEncoderReady = ensure;
      backend.readSync = readSync;
      manager.releaseBuffer = release;
      if (!output) for (const [buffer, reuse] of held) release.call(manager, buffer, reuse);
    }
    return new CapturedGraph(backend, input, output, commands, held);
  }

  /** Puts the next frame into the input (RGBA bytes or a tensor of the captured shape). */
  write(source: FrameInput): void {
    if (this.disposed) throw new Error('graph capture: the graph was disposed');
    if (this.busy) throw new Error('graph capture: a replay is already in flight');
    writeInput(this.backend, this.input, source);
  }

  /** Replays the captured dispatches on what the input holds and reads the output back. */
  async run(): Promise<{ data: Float32Array; encodeMs: number }> {
    if (this.disposed) throw new Error('graph capture: the graph was disposed');
    if (this.busy) throw new Error('graph capture: a replay is already in flight');
    this.busy = true;
    try {
      const t0 = performance.now();
      const { device } = this.backend;
      const encoder = device.createCommandEncoder();
      let pass: GpuComputePass | null = null;
      let pipeline: unknown = null;
      for (const c of this.commands) {
        if (c.kind === 'dispatch') {
          pass ??= encoder.beginComputePass();
          if (c.pipeline !== pipeline) pass.setPipeline((pipeline = c.pipeline));
          pass.setBindGroup(0, c.bindGroup);
          pass.dispatchWorkgroups(c.x, c.y, c.z);
        } else {
          pass?.end();
          pass = null;
          pipeline = null;
          encoder.copyBufferToBuffer(c.src, c.srcOffset, c.dst, c.dstOffset, c.size);
        }
      }
      pass?.end();
      this.submitWithRead(encoder);
      const encodeMs = performance.now() - t0;
      return { data: await this.mapOutput(), encodeMs };
    } finally {
      this.busy = false;
    }
  }

  /** Reads the output as it is (after the capture run, it holds that frame's result). */
  async read(): Promise<Float32Array> {
    if (this.disposed) throw new Error('graph capture: the graph was disposed');
    if (this.busy) throw new Error('graph capture: a replay is already in flight');
    this.busy = true;
    try {
      this.submitWithRead(this.backend.device.createCommandEncoder());
      return await this.mapOutput();
    } finally {
      this.busy = false;
    }
  }

  /** Appends the output's copy to the staging buffer and submits. */
  private submitWithRead(encoder: GpuCommandEncoder): void {
    encoder.copyBufferToBuffer(bufferOf(this.backend, this.output), 0, this.staging, 0, this.outputBytes);
    this.backend.device.queue.submit([encoder.finish()]);
  }

  /** Waits for the GPU and copies the output out of the staging buffer. */
  private async mapOutput(): Promise<Float32Array> {
    await this.staging.mapAsync(MAP_MODE_READ);
    const data = new Float32Array(this.staging.getMappedRange().slice(0));
    this.staging.unmap();
    return data;
  }

  /** Frees the input, the output and every buffer the frame held, back to tfjs's pool. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    flushBackend(this.backend);
    this.input.dispose();
    this.output.dispose();
    const manager = this.backend.bufferManager;
    for (const [buffer, reuse] of this.held) manager.releaseBuffer(buffer, reuse);
    if (!this.busy) this.staging.destroy();
  }
}

/** Puts a frame into `target`'s buffer, after everything tfjs has recorded so far. */
export function writeInput(backend: WebGpuBackendInternals, target: tf.Tensor, source: FrameInput): void {
  const to = bufferOf(backend, target);
  if (source instanceof tf.Tensor) {
    if (!tf.util.arraysEqual(source.shape, target.shape) || source.dtype !== target.dtype) {
      throw new Error(`graph capture: input [${source.shape.join(', ')}] does not match [${target.shape.join(', ')}]`);
    }
    const from = bufferOf(backend, source);
    flushBackend(backend);
    const encoder = backend.device.createCommandEncoder();
    encoder.copyBufferToBuffer(from, 0, to, 0, target.size * 4);
    backend.device.queue.submit([encoder.finish()]);
    return;
  }
  if (source.byteLength !== target.size * 4) {
    throw new Error(`graph capture: ${source.byteLength} bytes for an input of ${target.size * 4}`);
  }
  flushBackend(backend);
  backend.device.queue.writeBuffer(to, 0, source);
}

/**
 * A command encoder that records the compute dispatches and the buffer copies made through it
 * (uploads from mapped staging buffers excepted: their data stays in the held buffers).
 */
function recordingEncoder(device: GpuDevice, commands: Command[]): GpuCommandEncoder {
  const real = device.createCommandEncoder();
  return {
    beginComputePass(descriptor?: object): GpuComputePass {
      const pass = real.beginComputePass(descriptor);
      let pipeline: unknown = null;
      let bindGroup: unknown = null;
      return {
        setPipeline(p) {
          pipeline = p;
          pass.setPipeline(p);
        },
        setBindGroup(index, group) {
          if (index !== 0) throw new Error('graph capture: only bind group 0 is recorded');
          bindGroup = group;
          pass.setBindGroup(index, group);
        },
        dispatchWorkgroups(x, y = 1, z = 1) {
          commands.push({ kind: 'dispatch', pipeline, bindGroup, x, y, z });
          pass.dispatchWorkgroups(x, y, z);
        },
        end() {
          pass.end();
        },
      };
    },
    copyBufferToBuffer(src, srcOffset, dst, dstOffset, size) {
      if ((src.usage & USAGE_MAP_WRITE) === 0 && (dst.usage & USAGE_MAP_READ) === 0) {
        commands.push({ kind: 'copy', src, srcOffset, dst, dstOffset, size });
      }
      real.copyBufferToBuffer(src, srcOffset, dst, dstOffset, size);
    },
    finish() {
      return real.finish();
    },
  };
}
