export {
  startFakeSoda,
  columnsOf,
  fakeDatasetOf,
  type FakeDatasetControl,
  type FakeDatasetOptions,
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
export { buildViewDocument, type ViewColumn, type ViewDocument } from './views.js';
