export { simulate, SIM_EPOCH_MS, type SimulationOptions, type SimulationResult } from './simulation.ts';
export { simulationRows, scaleLabel } from './rows.ts';
export { writePlots } from './plots.ts';
export { formatTable, machineInfo, percentile, type BenchRow, type MachineInfo } from './table.ts';
export { citySampler, jitter, JITTER_KM, mulberry32 } from './places.ts';
