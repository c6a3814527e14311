import { HexEdgeError } from '@hexedge/protocol';
import { convertIndexedToRgb, decode, type DecodedPng } from 'fast-png';

/** A meter crop is a few KB to a few hundred KB; 2 MiB leaves room for a full phone photo of the dial. */
export const MAX_PNG_BYTES = 2 * 1024 * 1024;
/** Dimensions are checked from the header before inflating, so a small "PNG bomb" cannot allocate gigabytes. */
export const MAX_IMAGE_SIDE_PX = 4096;
/** 4 Mpx = 16 MiB of RGBA8 while decoding. */
export const MAX_IMAGE_PIXELS = 2048 * 2048;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Signature (8) + IHDR length (4) + type (4) + width (4) + height (4). */
const PNG_HEADER_BYTES = 24;
/** Transparent pixels are laid on white, the usual paper/display background behind dark digits. */
const BACKGROUND_LEVEL = 255;

export interface RgbImage {
  widthPx: number;
  heightPx: number;
  /** 8-bit R, G, B per pixel, row-major. */
  rgb: Uint8Array;
}

/** Checks and decodes a PNG into 8-bit RGB (grey, palette, 16-bit and alpha images are converted). */
export function decodePngToRgb(bytes: Uint8Array, field = 'image'): RgbImage {
  if (bytes.length > MAX_PNG_BYTES) {
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `${field} is ${bytes.length} bytes; at most ${MAX_PNG_BYTES} (2 MiB)`,
    );
  }
  if (bytes.length < PNG_HEADER_BYTES || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `${field} is not a PNG: it does not start with the PNG signature`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const widthPx = view.getUint32(16);
  const heightPx = view.getUint32(20);
  if (
    widthPx === 0 ||
    heightPx === 0 ||
    widthPx > MAX_IMAGE_SIDE_PX ||
    heightPx > MAX_IMAGE_SIDE_PX ||
    widthPx * heightPx > MAX_IMAGE_PIXELS
  ) {
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `${field} is ${widthPx}×${heightPx} px; each side must be 1–${MAX_IMAGE_SIDE_PX} px and the area at most ${MAX_IMAGE_PIXELS} px`,
    );
  }
  let png: DecodedPng;
  try {
    png = decode(bytes);
  } catch (error) {
    throw new HexEdgeError('INVALID_REQUEST', `${field} is not a valid PNG: ${(error as Error).message}`);
  }
  return { widthPx, heightPx, rgb: toRgb8(png, field) };
}

function toRgb8(png: DecodedPng, field: string): Uint8Array {
  let data: ArrayLike<number> = png.data;
  let channels = png.channels;
  let maxValue = 2 ** png.depth - 1;
  if (png.palette) {
    data = convertIndexedToRgb(png);
    channels = png.palette[0]?.length ?? 3;
    maxValue = 255;
  } else if (png.depth < 8) {
    // Sub-byte grey rows arrive packed; cameras do not produce them, so they are refused rather than unpacked.
    throw new HexEdgeError(
      'INVALID_REQUEST',
      `${field} is a ${png.depth}-bit greyscale PNG; send 8- or 16-bit`,
    );
  }
  const pixels = png.width * png.height;
  const hasAlpha = channels === 2 || channels === 4;
  const colourChannels = hasAlpha ? channels - 1 : channels;
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const alpha = hasAlpha ? data[p * channels + channels - 1]! / maxValue : 1;
    for (let c = 0; c < 3; c++) {
      const value = data[p * channels + (colourChannels === 1 ? 0 : c)]! / maxValue;
      rgb[p * 3 + c] = Math.round((value * alpha + (1 - alpha)) * BACKGROUND_LEVEL);
    }
  }
  return rgb;
}
