/**
 * The numbers of frame streams (camera sessions, video playbacks) the worker reads: one sequence
 * for every source, because the worker takes a frame of a higher number as the current stream.
 */
let last = 0;

export function nextStreamId(): number {
  return ++last;
}
