export { simulate, SIM_EPOCH_MS, type SimulationOptions, type SimulationResult } from './simulation.ts';
export { simulationRows, scaleLabel } from './rows.ts';
export { writePlots } from './plots.ts';
export { formatTable, machineInfo, percentile, type BenchRow, type MachineInfo } from './table.ts';
export { citySampler, jitter, JITTER_KM, mulberry32 } from './places.ts';
export { simulateAdversaries, type AdversaryReport, type AdversarySimOptions } from './adversary/run-adversaries.ts';
export { adversaryRows, GOALS as ADVERSARY_GOALS } from './adversary/adversary-rows.ts';
export { type AdversaryOptions } from './adversary/adversary-world.ts';
export { DEFAULT_SYBIL_MIX, type SybilRole } from './adversary/roles.ts';
