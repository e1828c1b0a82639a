import { COLORMAP_TABLES, type ColormapName } from '../explain/render/colormaps.js';
import type { Heatmap } from '../explain/methods/types.js';
import type { Region } from '../explain/runtime/crop.js';

export interface OverlayStyle {
  colormap: ColormapName;
  alpha: number;
  threshold: number;
  /** Darkening of the parts of the frame the network did not see. */
  dimOutside: number;
}

/** How much the overlay darkens the parts of the frame the network did not see. */
const DIM_OUTSIDE = 0.45;

/** The overlay style of the settings: the same object while the style is the same (a new one would repaint the overlay). */
export class OverlayStyles {
  private last: OverlayStyle | null = null;

  of(s: Pick<OverlayStyle, 'colormap' | 'alpha' | 'threshold'>): OverlayStyle {
    const o = this.last;
    if (o?.colormap === s.colormap && o.alpha === s.alpha && o.threshold === s.threshold) return o;
    return (this.last = { colormap: s.colormap, alpha: s.alpha, threshold: s.threshold, dimOutside: DIM_OUTSIDE });
  }
}

/** Draws a heatmap over a picture: upsampled on pixel centres, thresholded, coloured. */
export interface HeatmapRenderer {
  readonly kind: 'webgl2' | '2d';
  draw(heatmap: Heatmap, region: Region, source: { width: number; height: number }, style: OverlayStyle): void;
  clear(): void;
}

export function createHeatmapRenderer(canvas: HTMLCanvasElement): HeatmapRenderer {
  return WebGlRenderer.create(canvas) ?? new CanvasRenderer(canvas);
}

const VERTEX = `#version 300 es
in vec2 corner;
out vec2 uv;
void main() {
  uv = vec2(corner.x * 0.5 + 0.5, 0.5 - corner.y * 0.5);
  gl_Position = vec4(corner, 0.0, 1.0);
}`;

// The value is interpolated first and coloured after (as MATLAB's imshow of an imresized map),
// sampling the grid at pixel centres: no shift, no colour smearing between cells.
const FRAGMENT = `#version 300 es
precision highp float;
uniform sampler2D grid;
uniform sampler2D colormap;
uniform vec4 region;
uniform vec2 gridSize;
uniform float alpha;
uniform float threshold;
uniform float dim;
in vec2 uv;
out vec4 color;
void main() {
  vec2 p = (uv - region.xy) / region.zw;
  if (any(lessThan(p, vec2(0.0))) || any(greaterThanEqual(p, vec2(1.0)))) {
    color = vec4(0.0, 0.0, 0.0, dim);
    return;
  }
  vec2 g = clamp(p * gridSize - 0.5, vec2(0.0), gridSize - 1.0);
  ivec2 i0 = ivec2(floor(g));
  ivec2 i1 = min(i0 + 1, ivec2(gridSize) - 1);
  vec2 f = g - vec2(i0);
  float top = mix(texelFetch(grid, i0, 0).r, texelFetch(grid, ivec2(i1.x, i0.y), 0).r, f.x);
  float bottom = mix(texelFetch(grid, ivec2(i0.x, i1.y), 0).r, texelFetch(grid, i1, 0).r, f.x);
  float v = clamp(mix(top, bottom, f.y), 0.0, 1.0);
  if (v < threshold) v = 0.0;
  vec3 c = texelFetch(colormap, ivec2(int(round(v * 255.0)), 0), 0).rgb;
  color = vec4(c * alpha, alpha);
}`;

type Uniform = 'region' | 'gridSize' | 'alpha' | 'threshold' | 'dim';

const OVERLAY_MAX_WIDTH = 480;

class WebGlRenderer implements HeatmapRenderer {
  readonly kind = 'webgl2';
  private colormapName: ColormapName | null = null;
  /** Looked up once: each lookup is a synchronous round trip to the GPU process, a stall on the main thread. */
  private readonly uniforms: Record<Uniform, WebGLUniformLocation | null>;

  private constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly gl: WebGL2RenderingContext,
    program: WebGLProgram,
    private readonly gridTexture: WebGLTexture,
    private readonly colormapTexture: WebGLTexture,
  ) {
    const at = (name: Uniform) => gl.getUniformLocation(program, name);
    this.uniforms = {
      region: at('region'),
      gridSize: at('gridSize'),
      alpha: at('alpha'),
      threshold: at('threshold'),
      dim: at('dim'),
    };
  }

  static create(canvas: HTMLCanvasElement): WebGlRenderer | null {
    const gl = canvas.getContext('webgl2', {
      premultipliedAlpha: true,
      alpha: true,
      antialias: false,
      preserveDrawingBuffer: false,
      desynchronized: true,
    });
    if (!gl) return null;
    const compile = (type: number, source: string): WebGLShader | null => {
      const shader = gl.createShader(type)!;
      gl.shaderSource(shader, source);
      gl.compileShader(shader);
      return gl.getShaderParameter(shader, gl.COMPILE_STATUS) ? shader : null;
    };
    const vs = compile(gl.VERTEX_SHADER, VERTEX);
    const fs = compile(gl.FRAGMENT_SHADER, FRAGMENT);
    if (!vs || !fs) return null;
    const program = gl.createProgram()!;
    gl.attachShader(program, vs);
    gl.attachShader(program, fs);
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) return null;
    gl.useProgram(program);
    const buffer = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
    const corner = gl.getAttribLocation(program, 'corner');
    gl.enableVertexAttribArray(corner);
    gl.vertexAttribPointer(corner, 2, gl.FLOAT, false, 0, 0);
    const texture = (unit: number): WebGLTexture => {
      const t = gl.createTexture()!;
      gl.activeTexture(gl.TEXTURE0 + unit);
      gl.bindTexture(gl.TEXTURE_2D, t);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
      return t;
    };
    const grid = texture(0);
    const colormap = texture(1);
    gl.uniform1i(gl.getUniformLocation(program, 'grid'), 0);
    gl.uniform1i(gl.getUniformLocation(program, 'colormap'), 1);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    return new WebGlRenderer(canvas, gl, program, grid, colormap);
  }

  draw(heatmap: Heatmap, region: Region, source: { width: number; height: number }, style: OverlayStyle): void {
    const { gl, uniforms: u } = this;
    this.fitToDisplay();
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.gridTexture);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.R32F, heatmap.width, heatmap.height, 0, gl.RED, gl.FLOAT, heatmap.data);
    if (this.colormapName !== style.colormap) {
      const rgb = COLORMAP_TABLES[style.colormap];
      const rgba = new Uint8Array(256 * 4);
      for (let i = 0; i < 256; i++) rgba.set([rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!, 255], i * 4);
      gl.activeTexture(gl.TEXTURE1);
      gl.bindTexture(gl.TEXTURE_2D, this.colormapTexture);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, 256, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, rgba);
      this.colormapName = style.colormap;
    }
    gl.uniform4f(
      u.region,
      region.x / source.width,
      region.y / source.height,
      region.width / source.width,
      region.height / source.height,
    );
    gl.uniform2f(u.gridSize, heatmap.width, heatmap.height);
    gl.uniform1f(u.alpha, style.alpha);
    gl.uniform1f(u.threshold, style.threshold);
    gl.uniform1f(u.dim, style.dimOutside);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
  }

  clear(): void {
    this.gl.clearColor(0, 0, 0, 0);
    this.gl.clear(this.gl.COLOR_BUFFER_BIT);
  }

  /**
   * At most OVERLAY_MAX_WIDTH pixels across, whatever the display: the map is smooth, the
   * compositor scales the canvas up, and on software-rendered GPUs every pixel costs CPU time.
   */
  private fitToDisplay(): void {
    const scale = Math.min(window.devicePixelRatio || 1, 2, OVERLAY_MAX_WIDTH / Math.max(1, this.canvas.clientWidth));
    const w = Math.max(1, Math.round(this.canvas.clientWidth * scale));
    const h = Math.max(1, Math.round(this.canvas.clientHeight * scale));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
  }
}

/** Where WebGL2 is missing: colour the cells, let the 2D canvas interpolate the colours. */
class CanvasRenderer implements HeatmapRenderer {
  readonly kind = '2d';
  private readonly ctx: CanvasRenderingContext2D;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.ctx = canvas.getContext('2d')!;
  }

  draw(heatmap: Heatmap, region: Region, source: { width: number; height: number }, style: OverlayStyle): void {
    const { ctx, canvas } = this;
    canvas.width = source.width;
    canvas.height = source.height;
    const table = COLORMAP_TABLES[style.colormap];
    const cells = new ImageData(heatmap.width, heatmap.height);
    heatmap.data.forEach((v0, i) => {
      const v = v0 < style.threshold ? 0 : v0;
      const c = Math.round(Math.min(Math.max(v, 0), 1) * 255) * 3;
      cells.data.set([table[c]!, table[c + 1]!, table[c + 2]!, 255], i * 4);
    });
    const tile = new OffscreenCanvas(heatmap.width, heatmap.height);
    tile.getContext('2d')!.putImageData(cells, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = `rgba(0,0,0,${style.dimOutside})`;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.clearRect(region.x, region.y, region.width, region.height);
    ctx.globalAlpha = style.alpha;
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(tile, region.x, region.y, region.width, region.height);
    ctx.globalAlpha = 1;
  }

  clear(): void {
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
  }
}
