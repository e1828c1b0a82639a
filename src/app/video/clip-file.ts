import { msg, str } from '@lit/localize';
import type { Input, InputVideoTrack } from 'mediabunny';
import { WhyCamError } from '../../explain/errors.js';

const MAX_CLIP_BYTES = 2 * 1024 ** 3;

/** What the page knows of an opened clip before it plays: enough for the HUD's frame numbers. */
export interface ClipInfo {
  name: string;
  /** mediabunny's name for the codec (`avc`, `vp8`, `vp9`, `av1`…) and the full codec string. */
  codec: string;
  codecString: string;
  width: number;
  height: number;
  /** Seconds, from the first frame's start to the last frame's end. */
  duration: number;
  /** The first frame's timestamp, s (usually 0). */
  start: number;
  /** Frames in the track (its sample count: every one is a frame to decode). */
  frameCount: number;
  /** Frames per second, from the frame count and the duration. */
  frameRate: number;
  /** Whether this browser's WebCodecs decode it (the whole-clip explanation needs that). */
  webCodecs: boolean;
}

/** An opened clip: the demuxer's input (kept for the whole-clip explanation) and what it holds. */
export interface OpenedClip {
  input: Input;
  track: InputVideoTrack;
  info: ClipInfo;
}

/** Human names of the codecs, for messages. */
const CODEC_NAMES: Record<string, string> = { avc: 'H.264', hevc: 'H.265', vp8: 'VP8', vp9: 'VP9', av1: 'AV1' };

/** The MIME type to ask `<video>.canPlayType` about, from the container and codec string. */
function mimeOf(container: string, codecString: string): string {
  return `video/${container === 'webm' || container === 'matroska' ? 'webm' : 'mp4'}; codecs="${codecString}"`;
}

/**
 * Reads a video file's container (MP4/MOV, WebM/Matroska…) with mediabunny and checks that this
 * browser decodes its video track; throws a message naming the problem otherwise (not a video,
 * damaged, no video track, a codec this browser lacks — Chromium builds without H.264, say).
 */
export async function openClip(file: Blob & { name?: string }): Promise<OpenedClip> {
  const name = file.name || msg('The video');
  if (file.size === 0) throw new WhyCamError('bad-image', msg(str`${name} is empty.`));
  if (file.size > MAX_CLIP_BYTES) throw new WhyCamError('bad-image', msg(str`${name} is larger than 2 GiB.`));
  const { ALL_FORMATS, BlobSource, Input, UnsupportedInputFormatError } = await import('mediabunny');
  const input = new Input({ source: new BlobSource(file), formats: ALL_FORMATS });
  try {
    const track = await input.getPrimaryVideoTrack();
    if (!track)
      throw new WhyCamError(
        'bad-image',
        msg(str`${name} has no video track: it holds no video, or it is damaged.`),
        msg('Open an MP4 (H.264) or WebM (VP8 or VP9) clip.'),
      );
    const codecString = (await track.getCodecParameterString()) ?? '';
    const codec = track.codec ?? 'unknown';
    const codecName = CODEC_NAMES[codec] ?? (codec === 'unknown' ? msg('an unknown codec') : codec);
    const webCodecs = typeof VideoDecoder !== 'undefined' && (await track.canDecode());
    const container = (await input.getFormat()).name.toLowerCase();
    const playable = document.createElement('video').canPlayType(mimeOf(container, codecString)) !== '';
    if (!webCodecs && !playable) {
      throw new WhyCamError(
        'bad-image',
        msg(str`This browser cannot decode ${codecName} video (${codecString || codec}), the codec of ${name}.`),
        codec === 'avc'
          ? msg('This browser was built without H.264. Open a WebM (VP8 or VP9) clip, or use Chrome or Firefox.')
          : msg('Open an MP4 (H.264) or WebM (VP8 or VP9) clip.'),
      );
    }
    const stats = await track.computePacketStats();
    const start = await track.getFirstTimestamp();
    const duration = (await track.computeDuration()) - start;
    if (stats.packetCount === 0 || !(duration > 0))
      throw new WhyCamError('bad-image', msg(str`${name} has no frames.`));
    return {
      input,
      track,
      info: {
        name,
        codec,
        codecString,
        width: await track.getDisplayWidth(),
        height: await track.getDisplayHeight(),
        duration,
        start,
        frameCount: stats.packetCount,
        frameRate: stats.packetCount / duration,
        webCodecs,
      },
    };
  } catch (e) {
    input.dispose();
    if (e instanceof WhyCamError) throw e;
    if (e instanceof UnsupportedInputFormatError)
      throw new WhyCamError(
        'bad-image',
        msg(str`${name} is not a video this app can read: its format is not MP4, WebM or Matroska.`),
        msg('Open an MP4 (H.264) or WebM (VP8 or VP9) clip.'),
      );
    throw new WhyCamError(
      'bad-image',
      msg(str`${name} is damaged: ${e instanceof Error ? e.message : String(e)}`),
      msg('Open an MP4 (H.264) or WebM (VP8 or VP9) clip.'),
    );
  }
}

/** The frame shown at a media time, counted from 0 (the frame whose span holds the time). */
export function frameAt(info: ClipInfo, time: number): number {
  const k = Math.floor((time - info.start) * info.frameRate + 1e-3);
  return Math.min(Math.max(k, 0), info.frameCount - 1);
}
