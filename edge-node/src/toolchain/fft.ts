/**
 * Radix-2 FFT for the plain-TS feature extraction. The ONNX graphs compute the same spectra as a
 * MatMul with a constant cosine/sine basis (runtimes have no portable FFT op at opsets 13–17); the
 * FFT here is only the fast way to get the same numbers for training and for `preprocess` callers.
 */

/** In-place forward DFT, X_k = Σ x_n e^{-2πikn/N}; `re.length` must be a power of two. */
export function fftInPlace(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if ((n & (n - 1)) !== 0 || im.length !== n)
    throw new RangeError(`fft length must be a power of two, got ${n}`);
  // Bit-reversal permutation.
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1;
    const step = (-2 * Math.PI) / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        // Twiddles from cos/sin directly (not by recurrence) so rounding does not accumulate.
        const wr = Math.cos(step * k);
        const wi = Math.sin(step * k);
        const a = start + k;
        const b = a + half;
        const tr = re[b] * wr - im[b] * wi;
        const ti = re[b] * wi + im[b] * wr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
      }
    }
  }
}
