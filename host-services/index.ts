/**
 * Host-side entry point of `@clawsec/traffic-guardian`: what NanoClaw's host
 * process imports to own the guardian (config, lifecycle, container wiring)
 * and to answer its containers' requests (v1 file IPC, v2 delivery actions).
 */
export {
  ENV_PREFIX,
  ENV_VARS,
  TrafficConfigError,
  buildConfigInput,
  checkTrafficConfig,
  effectiveView,
  formatConfigIssues,
  resolveRuntimeTokens,
  type ConfigOptions,
  type EffectiveView,
  type EnvLike,
} from './config.js';
export {
  CA_PUBLIC_DIR_NAME,
  STATUS_FILE_NAME,
  createTrafficGuardian,
  fromMsgDataLogger,
  writeJsonAtomic,
  type ContainerWireOptions,
  type CreateTrafficGuardianOptions,
  type MsgDataLogger,
  type ServiceStatus,
  type StartResult,
  type TrafficGuardianService,
  type TrafficLogger,
  type OffStatus,
  type UnavailableStatus,
  type WiringOptions,
} from './lifecycle.js';
export {
  DEFAULT_CONTAINER_CA_DIR,
  DEFAULT_CONTAINER_HOST,
  DEFAULT_NO_PROXY,
  buildWiring,
  parseListen,
  prepareCaPublicDir,
  wiringToDockerArgs,
  wiringToSpawn,
  type ContainerWiring,
  type WiringInput,
  type WiringMount,
} from './wiring.js';
export {
  CONTAINER_CHECK_AUTH_MARKER,
  CONTAINER_CHECK_HOST,
  CONTAINER_CHECK_MARKER,
  CONTAINER_CLIENTS,
  NODE20_FETCH_WARNING,
  containerNodeCheck,
  containerShellCheck,
  type ContainerClient,
} from './clients.js';
export {
  UNUSABLE_REQUEST_ID,
  handleTrafficRequest,
  scrubSecrets,
  scrubText,
  type TrafficRequestContext,
  type TrafficServiceLike,
} from './ipc/handler.js';
export {
  handleTrafficIpc,
  isTrafficTaskType,
  resultsDirFor,
  writeReplyAtomic,
  type TrafficIpcDeps,
  type TrafficIpcOutcome,
} from './ipc/v1.js';
export {
  registerTrafficActionsV2,
  type DeliveryActionHandler,
  type RegisterDeliveryAction,
  type TrafficActionsV2Deps,
} from './ipc/v2.js';
export {
  IPC_SCHEMA,
  RESULTS_DIR_NAME,
  TRAFFIC_REQUEST_TYPES,
  type TrafficRequest,
  type TrafficRequestType,
  type TrafficResponse,
} from '../mcp-tools/contract.js';
