/**
 * CTC greedy decoding (PaddleOCR's CTCLabelDecode): the most likely class at each time step, repeats
 * collapsed, the blank dropped. Confidence is the mean of the kept steps' probabilities (0 for no text).
 * Unlike PaddleOCR, spaces at either end are dropped (from the text and the confidence): the edge of a
 * crop and the grey right-hand padding often read as a space, and a meter reading never ends in one.
 */
export const CTC_BLANK_INDEX = 0;

export interface CtcResult {
  text: string;
  confidence: number;
}

export function ctcGreedyDecode(options: {
  /** Row-major [steps, classes] probabilities of one sequence. */
  probabilities: ArrayLike<number>;
  steps: number;
  classes: number;
  /** Class index → character; labels[CTC_BLANK_INDEX] is the blank. */
  labels: readonly string[];
}): CtcResult {
  const { probabilities, steps, classes, labels } = options;
  const kept: { char: string; probability: number }[] = [];
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    let bestP = -Infinity;
    for (let k = 0; k < classes; k++) {
      const p = probabilities[t * classes + k]!;
      if (p > bestP) {
        bestP = p;
        best = k;
      }
    }
    if (best !== CTC_BLANK_INDEX && best !== previous)
      kept.push({ char: labels[best] ?? '', probability: bestP });
    previous = best;
  }
  let first = 0;
  let end = kept.length;
  while (first < end && kept[first]!.char.trim() === '') first++;
  while (end > first && kept[end - 1]!.char.trim() === '') end--;
  const chars = kept.slice(first, end);
  const text = chars.map((c) => c.char).join('');
  return {
    text,
    confidence: chars.length === 0 ? 0 : chars.reduce((sum, c) => sum + c.probability, 0) / chars.length,
  };
}
