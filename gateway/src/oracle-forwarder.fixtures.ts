/**
 * The forwarder tests' answer (oracle-forwarder-*.test.ts, oracle-retry.test.ts): request `r{i}` and
 * a checked answer to it, as InferService hands `onAnswered` one. Only its receipt's request id is read back.
 */
export const answered = (i: number) =>
  [
    {
      model: 'm',
      location: { lat: 52, lng: 5 },
      inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, 2], data: [[i, 2]] }],
    },
    {
      id: `r${i}`,
      model_name: 'm',
      model_version: '1',
      outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: [0.5] }],
      node: { id: 'n', cell: 'c', distanceKm: 1 },
      timing: { placementMs: 0, nodeMs: 1, totalMs: 1 },
      receipt: { body: { requestId: `r${i}` }, signature: 's' },
    },
  ] as never as [never, never];
