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
interface GpuTexture {
  destroy(): void;
}
interface GpuCommandEncoder {
  beginComputePass(descriptor?: object): GpuComputePass;
  copyBufferToBuffer(src: GpuBuffer, srcOffset: number, dst: GpuBuffer, dstOffset: number, size: number): void;
  copyTextureToBuffer(
    source: { texture: GpuTexture },
    destination: { buffer: GpuBuffer; bytesPerRow: number },
    size: [number, number],
  ): void;
  finish(): unknown;
}
interface GpuDevice {
  createCommandEncoder(): GpuCommandEncoder;
  createBuffer(descriptor: { size: number; usage: number }): GpuBuffer;
  createTexture(descriptor: { size: [number, number]; format: string; usage: number }): GpuTexture;
  readonly queue: {
    submit(buffers: unknown[]): void;
    writeBuffer(buffer: GpuBuffer, offset: number, data: ArrayBufferView): void;
    /** Browsers only: Dawn under Node has the method but no source type it accepts. */
    copyExternalImageToTexture?(
      source: { source: unknown },
      destination: { texture: GpuTexture },
      size: [number, number],
    ): void;
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

// GPUTextureUsage: COPY_SRC | COPY_DST | RENDER_ATTACHMENT (what copyExternalImageToTexture's destination needs).
const TEXTURE_USAGE = 0x01 | 0x02 | 0x10;
/** copyTextureToBuffer's rows start at multiples of this many bytes. */
const ROW_ALIGNMENT = 256;

/**
 * A picture the GPU copies from itself (a VideoFrame, an ImageBitmap, an OffscreenCanvas): its
 * pixels go texture → the graph's input buffer without a read-back to the CPU, a temporary tensor
 * or a submit of their own. The input is [height, paddedWidth] RGBA words (rows padded to 256
 * bytes, as copyTextureToBuffer lays them out); the input kernel reads only the frame's columns.
 */
export interface ExternalFrame {
  readonly external: unknown;
  readonly width: number;
  readonly height: number;
}

/**
 * A frame for a captured graph's input: its RGBA bytes (input [h, w] int32 words), a tensor of the
 * input's shape, or an external picture (input `externalInputShape`).
 */
export type FrameInput = Uint8Array | Uint8ClampedArray | tf.Tensor | ExternalFrame;

export function isExternalFrame(source: FrameInput): source is ExternalFrame {
  return !(source instanceof tf.Tensor) && 'external' in source;
}

/** The input an external frame is copied into: [height, row words], rows padded to 256 bytes. */
export function externalInputShape(width: number, height: number): [number, number] {
  return [height, (Math.ceil((width * 4) / ROW_ALIGNMENT) * ROW_ALIGNMENT) / 4];
}

/** Whether the device can copy external pictures at all (a given source may still be refused). */
export function copiesExternalImages(backend: WebGpuBackendInternals): boolean {
  return typeof backend.device.queue.copyExternalImageToTexture === 'function';
}

/** An rgba8unorm texture of a frame's size, that each external frame is copied into and from there into an input buffer. */
class FrameTexture {
  private readonly texture: GpuTexture;
  constructor(
    private readonly backend: WebGpuBackendInternals,
    readonly width: number,
    readonly height: number,
  ) {
    this.texture = backend.device.createTexture({ size: [width, height], format: 'rgba8unorm', usage: TEXTURE_USAGE });
  }

  /** Queues the copy of the picture into the texture (after what tfjs recorded). Throws if the source is refused. */
  upload(frame: ExternalFrame): void {
    if (frame.width !== this.width || frame.height !== this.height) {
      throw new Error(`graph capture: a ${frame.width}×${frame.height} frame for a ${this.width}×${this.height} input`);
    }
    flushBackend(this.backend);
    this.backend.device.queue.copyExternalImageToTexture!({ source: frame.external }, { texture: this.texture }, [
      this.width,
      this.height,
    ]);
  }

  /** Records the texture → input copy (RGBA bytes = the packed words). */
  copyInto(encoder: GpuCommandEncoder, input: GpuBuffer): void {
    const [, rowWords] = externalInputShape(this.width, this.height);
    encoder.copyTextureToBuffer({ texture: this.texture }, { buffer: input, bytesPerRow: rowWords * 4 }, [
      this.width,
      this.height,
    ]);
  }

  destroy(): void {
    this.texture.destroy();
  }
}

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
  /** External frames are copied through it (made on the first), the copy into the input recorded with the replay. */
  private texture: FrameTexture | null = null;
  private textureWritten = false;
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

  /**
   * Puts the next frame into the input (RGBA bytes or a tensor of the captured shape), or, for an
   * external picture, into the graph's texture, copied into the input by the replay's own commands.
   */
  write(source: FrameInput): void {
    if (this.disposed) throw new Error('graph capture: the graph was disposed');
    if (this.busy) throw new Error('graph capture: a replay is already in flight');
    if (isExternalFrame(source)) {
      this.texture ??= new FrameTexture(this.backend, source.width, source.height);
      this.texture.upload(source);
      this.textureWritten = true;
      return;
    }
    this.textureWritten = false;
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
      if (this.textureWritten) this.texture!.copyInto(encoder, bufferOf(this.backend, this.input));
      this.textureWritten = false;
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
    this.texture?.destroy();
  }
}

/** Puts a frame into `target`'s buffer, after everything tfjs has recorded so far. */
export function writeInput(backend: WebGpuBackendInternals, target: tf.Tensor, source: FrameInput): void {
  const to = bufferOf(backend, target);
  if (isExternalFrame(source)) {
    // Once per captured graph (its first frame), through a texture of its own.
    const texture = new FrameTexture(backend, source.width, source.height);
    try {
      texture.upload(source);
      const encoder = backend.device.createCommandEncoder();
      texture.copyInto(encoder, to);
      backend.device.queue.submit([encoder.finish()]);
    } finally {
      texture.destroy();
    }
    return;
  }
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
    copyTextureToBuffer() {
      throw new Error('graph capture: texture copies are not recorded');
    },
    finish() {
      return real.finish();
    },
  };
}
