/**
 * Makes edge-node/test/fixtures/meter-<reading>.png: camera-like crops of a meter's digit window (dark
 * digits on a greyish-green display, slight blur and sensor noise) for the ppocr-rec-v4 pipeline test.
 * The committed PNGs are what CI uses; ImageMagick and DejaVu fonts (Debian packages `imagemagick`,
 * `fonts-dejavu-core`) are needed only to run this script again.
 *
 *   PATH=/work/main/node_modules/.bin:$PATH node edge-node/scripts/make-meter-fixtures.ts
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';

const METER_READINGS = ['04721', '13958', '0072.5'] as const;

const FONT_FILE = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf';
const POINT_SIZE = 40;
/** Display background and ink colours of a typical LCD register window. */
const BACKGROUND = '#c9d1c0';
const INK = '#1e2420';
/** A slightly soft lens (σ in px) and sensor noise, so the model sees a photo rather than clean vector text. */
const BLUR_SIGMA_PX = 0.7;
const NOISE_ATTENUATION = 0.25;
/** Fixed seed: the same bytes on every run. */
const NOISE_SEED = 4721;

const fixturesDir = path.join(import.meta.dirname, '..', 'test', 'fixtures');

/** Debian 13 ships ImageMagick 7 (`magick`), Debian 12 ImageMagick 6 (`convert-im6.q16`). */
function imageMagick(): string {
  for (const candidate of ['magick', 'convert-im6.q16']) {
    try {
      execFileSync(candidate, ['-version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next name
    }
  }
  throw new Error('ImageMagick not found: apt-get install -y imagemagick fonts-dejavu-core');
}

const magick = imageMagick();
for (const reading of METER_READINGS) {
  const outFile = path.join(fixturesDir, `meter-${reading}.png`);
  execFileSync(magick, [
    '-seed',
    String(NOISE_SEED),
    '-background',
    BACKGROUND,
    '-fill',
    INK,
    '-font',
    FONT_FILE,
    '-pointsize',
    String(POINT_SIZE),
    `label:${reading}`,
    '-bordercolor',
    BACKGROUND,
    '-border',
    '14x8',
    '-blur',
    `0x${BLUR_SIGMA_PX}`,
    '-attenuate',
    String(NOISE_ATTENUATION),
    '+noise',
    'Gaussian',
    // Plain 8-bit RGB without timestamps, so a re-run gives the same bytes.
    '-strip',
    '-define',
    'png:color-type=2',
    '-depth',
    '8',
    `png:${outFile}`,
  ]);
  console.log(`${outFile}: ${statSync(outFile).size} bytes`);
}
