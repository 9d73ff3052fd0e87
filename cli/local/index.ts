export {
  applyEmulatorFixUps,
  cdkDeployArgs,
  type DeployToEmulatorOptions,
  deployToEmulator,
  EMULATOR_ACCOUNT,
  EMULATOR_REGION,
  emulatorEnv,
  findCdkCli,
  findStackArtifact,
  readStackOutputs,
} from './deploy.js';
export {
  DEFAULT_ENDPOINT,
  EmulatorError,
  type EmulatorHandle,
  type EnsureEmulatorOptions,
  emulatorFiles,
  ensureEmulator,
  installLambdaNode,
  isHealthy,
  LAMBDA_NODE_VERSION,
  type Log,
  MINISTACK_VERSION,
  resetEmulator,
  type StopEmulatorOptions,
  stopEmulator,
} from './emulator.js';
export { CommandFailedError, runCommand } from './run.js';
