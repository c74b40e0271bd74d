export {
  startFakeSoda,
  type FakeSoda,
  type FakeSodaOptions,
  type RecordedRequest,
} from './server.js';
export {
  everyNthRequestFails,
  faultKinds,
  transientFaultKinds,
  type FaultKind,
  type FaultRule,
} from './faults.js';
export type { SodaRow } from './types.js';
