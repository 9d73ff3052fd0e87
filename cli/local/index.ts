export {
  applyEmulatorFixUps,
  type DeployToEmulatorOptions,
  deployToEmulator,
  EMULATOR_ACCOUNT,
  EMULATOR_REGION,
  emulatorEnv,
  readStackOutputs,
} from './deploy.js';
export {
  DEFAULT_ENDPOINT,
  EMULATOR_LOG_FILE,
  EMULATOR_PID_FILE,
  EmulatorError,
  type EmulatorHandle,
  type EnsureEmulatorOptions,
  ensureEmulator,
  isHealthy,
  type Log,
  MINISTACK_VERSION,
  resetEmulator,
  type StopEmulatorOptions,
  stopEmulator,
} from './emulator.js';
export { CommandFailedError, runCommand } from './run.js';
