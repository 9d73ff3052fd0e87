export { applyEmulatorFixUps, deployToEmulator, type DeployToEmulatorOptions, EMULATOR_ACCOUNT, EMULATOR_REGION, emulatorEnv, readStackOutputs } from './deploy.js';
export {
  DEFAULT_ENDPOINT,
  EMULATOR_LOG_FILE,
  EMULATOR_PID_FILE,
  type EmulatorHandle,
  EmulatorError,
  type EnsureEmulatorOptions,
  ensureEmulator,
  isHealthy,
  type Log,
  MINISTACK_VERSION,
  resetEmulator,
  stopEmulator,
  type StopEmulatorOptions,
} from './emulator.js';
export { CommandFailedError, runCommand } from './run.js';
