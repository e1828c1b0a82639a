/**
 * Adds an international text chunk (iTXt, UTF-8) to a PNG, right after its header chunk: e.g. the
 * saved view's title, so that the file says what it shows in words as well as in pixels.
 */
export function withPngText(png: Uint8Array, keyword: string, text: string): Uint8Array {
  const IHDR_END = 8 + 4 + 4 + 13 + 4; // signature, then the IHDR chunk: length, type, 13 data bytes, CRC
  const utf8 = new TextEncoder();
  // keyword NUL, compression flag 0, method 0, language tag "" NUL, translated keyword "" NUL, text
  const data = concat([utf8.encode(keyword), new Uint8Array([0, 0, 0, 0, 0]), utf8.encode(text)]);
  const typeAndData = concat([utf8.encode('iTXt'), data]);
  const chunk = new Uint8Array(4 + typeAndData.length + 4);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  chunk.set(typeAndData, 4);
  view.setUint32(4 + typeAndData.length, crc32(typeAndData));
  return concat([png.subarray(0, IHDR_END), chunk, png.subarray(IHDR_END)]);
}

/** The text of the first iTXt chunk with this keyword, or null. */
export function readPngText(png: Uint8Array, keyword: string): string | null {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const decoder = new TextDecoder();
  for (let at = 8; at + 12 <= png.length;) {
    const length = view.getUint32(at);
    const type = decoder.decode(png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + length);
    if (type === 'iTXt') {
      const end = data.indexOf(0);
      if (decoder.decode(data.subarray(0, end)) === keyword) {
        // Skip the compression flag and method, then the language tag and translated keyword.
        let p = end + 3;
        p = data.indexOf(0, p) + 1;
        p = data.indexOf(0, p) + 1;
        return decoder.decode(data.subarray(p));
      }
    }
    at += 12 + length;
  }
  return null;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
