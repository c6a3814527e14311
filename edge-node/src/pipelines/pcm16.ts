/** PCM16 little-endian → float32 in [-1, 1), the scale Silero (and most audio models) were trained on. */
const PCM16_FULL_SCALE = 32768;

export function pcm16LeToFloat32(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const samples = new Float32Array(bytes.byteLength >> 1);
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true) / PCM16_FULL_SCALE;
  return samples;
}
