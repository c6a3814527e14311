import type { Tensor } from '@hexedge/protocol';
import { decodePngToRgb, type RgbImage } from './png-image.ts';

/**
 * PP-OCR recognition input, as PaddleOCR's `resize_norm_img` makes it: height 48, width scaled to keep
 * the aspect ratio (capped at 320, so 320 / 48 ≈ 6.7 : 1 is the widest line kept undistorted), padded on
 * the right to 320 with 0 (mid-grey after normalisation). Width 320 is PaddleOCR's rec_image_shape for
 * PP-OCRv4 and gives 40 CTC steps (the model downsamples width by 8).
 */
export const REC_INPUT_NAME = 'x';
export const REC_HEIGHT_PX = 48;
export const REC_WIDTH_PX = 320;
const REC_CHANNELS = 3;
/** PaddleOCR reads images with OpenCV, so the model was trained on B, G, R planes in that order. */
const BGR_FROM_RGB = [2, 1, 0] as const;

/** (x / 255 − 0.5) / 0.5: pixel values to [-1, 1], PaddleOCR's NormalizeImage for recognition. */
function normalize(level: number): number {
  return (level / 255 - 0.5) / 0.5;
}

/** Bilinear resize (OpenCV INTER_LINEAR pixel-centre convention) straight into the CHW BGR tensor. */
export function rgbToRecData(image: RgbImage): Float32Array {
  const { widthPx, heightPx, rgb } = image;
  const resizedWidthPx = Math.max(1, Math.min(REC_WIDTH_PX, Math.ceil((REC_HEIGHT_PX * widthPx) / heightPx)));
  const out = new Float32Array(REC_CHANNELS * REC_HEIGHT_PX * REC_WIDTH_PX); // zero = padding
  const scaleX = widthPx / resizedWidthPx;
  const scaleY = heightPx / REC_HEIGHT_PX;
  for (let y = 0; y < REC_HEIGHT_PX; y++) {
    const sy = Math.min(Math.max((y + 0.5) * scaleY - 0.5, 0), heightPx - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, heightPx - 1);
    const fy = sy - y0;
    for (let x = 0; x < resizedWidthPx; x++) {
      const sx = Math.min(Math.max((x + 0.5) * scaleX - 0.5, 0), widthPx - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, widthPx - 1);
      const fx = sx - x0;
      for (let c = 0; c < REC_CHANNELS; c++) {
        const src = BGR_FROM_RGB[c];
        const top = rgb[(y0 * widthPx + x0) * 3 + src]! * (1 - fx) + rgb[(y0 * widthPx + x1) * 3 + src]! * fx;
        const bottom =
          rgb[(y1 * widthPx + x0) * 3 + src]! * (1 - fx) + rgb[(y1 * widthPx + x1) * 3 + src]! * fx;
        out[(c * REC_HEIGHT_PX + y) * REC_WIDTH_PX + x] = normalize(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return out;
}

/** A PNG (checked and decoded) → the raw [1, 3, 48, 320] FP32 input tensor of ppocr-rec. */
export function pngToRecTensor(png: Uint8Array): Tensor {
  // A Float32Array, not number[]: 46 080 values go to the backend without boxing (JSON callers use tensorValuesToArray).
  const data = rgbToRecData(decodePngToRgb(png));
  return {
    name: REC_INPUT_NAME,
    datatype: 'FP32',
    shape: [1, REC_CHANNELS, REC_HEIGHT_PX, REC_WIDTH_PX],
    data,
  };
}
