// The simulated external controller: protocol v1 over in-memory machines, for development,
// tests and scale runs (a stand-in for the physical world, like KWOK for kubelets).
export { startSimulator, simulatorApp, type SimulatorHandle, type SimulatorOptions } from './server.js';
export {
  Simulation,
  SimulatorStats,
  type Disk,
  type FailureMode,
  type Latency,
  type LatencyKey,
  type Machine,
  type UidStats,
} from './simulation.js';
export { StatusReporter, callbackTargetFromKubeconfig, combineMergePatches, type Misdelivery, type ReporterCounts } from './status-reporter.js';
export { seededRandom, type Random } from './random.js';
export { ClusterSimulation, type ClusterLatency } from './cluster-service.js';
