export { simulate, SIM_EPOCH_MS, type SimulationOptions, type SimulationResult } from './simulation.ts';
export { simulationRows, scaleLabel } from './rows.ts';
export { writePlots } from './plots.ts';
