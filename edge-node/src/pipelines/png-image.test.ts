import { encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { decodePngToRgb, MAX_IMAGE_SIDE_PX, MAX_PNG_BYTES } from './png-image.ts';

describe('decodePngToRgb', () => {
  it('decodes RGB, grey, 16-bit and alpha PNGs to 8-bit RGB (transparency on white)', () => {
    const rgb = decodePngToRgb(
      encode({ width: 2, height: 1, data: new Uint8Array([10, 20, 30, 200, 100, 0]), channels: 3 }),
    );
    expect(rgb).toEqual({ widthPx: 2, heightPx: 1, rgb: new Uint8Array([10, 20, 30, 200, 100, 0]) });

    const grey16 = decodePngToRgb(
      encode({ width: 1, height: 1, data: new Uint16Array([65535]), channels: 1, depth: 16 }),
    );
    expect([...grey16.rgb]).toEqual([255, 255, 255]);

    // Black at half opacity over white is mid-grey; a fully transparent pixel is white.
    const greyAlpha = decodePngToRgb(
      encode({ width: 2, height: 1, data: new Uint8Array([0, 255, 0, 0]), channels: 2 }),
    );
    expect([...greyAlpha.rgb]).toEqual([0, 0, 0, 255, 255, 255]);
    const rgba = decodePngToRgb(
      encode({ width: 1, height: 1, data: new Uint8Array([0, 0, 0, 128]), channels: 4 }),
    );
    expect([...rgba.rgb]).toEqual([127, 127, 127]);
  });

  it('refuses what is not a PNG, a truncated PNG, and a PNG too large in bytes or pixels', () => {
    const code = { code: 'INVALID_REQUEST' };
    expect(() => decodePngToRgb(new TextEncoder().encode('GIF89a, not a PNG at all'))).toThrow(
      expect.objectContaining({ ...code, message: expect.stringMatching(/not a PNG/) }),
    );
    const png = encode({ width: 8, height: 8, data: new Uint8Array(8 * 8 * 3), channels: 3 });
    expect(() => decodePngToRgb(png.subarray(0, png.length - 20))).toThrow(
      expect.objectContaining({ ...code, message: expect.stringMatching(/not a valid PNG/) }),
    );
    expect(() => decodePngToRgb(new Uint8Array(MAX_PNG_BYTES + 1))).toThrow(
      expect.objectContaining({ ...code, message: expect.stringMatching(/2097153 bytes; at most 2097152/) }),
    );
    // A wide strip is only a few hundred bytes, yet is refused from its header, before it is inflated.
    const wide = encode({
      width: MAX_IMAGE_SIDE_PX + 1,
      height: 2,
      data: new Uint8Array((MAX_IMAGE_SIDE_PX + 1) * 2),
      channels: 1,
    });
    expect(() => decodePngToRgb(wide)).toThrow(
      expect.objectContaining({ ...code, message: expect.stringMatching(/4097×2 px/) }),
    );
    const big = encode({ width: 3000, height: 3000, data: new Uint8Array(3000 * 3000), channels: 1 });
    expect(() => decodePngToRgb(big)).toThrow(
      expect.objectContaining({ ...code, message: expect.stringMatching(/3000×3000 px/) }),
    );
  });
});
