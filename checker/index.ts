// The checker's public API (see docs/checker.md).
export { checkHistory, combine, MODEL_NAMES } from './check.js';
export type { CheckOptions, CheckResult, KeyResult, ModelName, Verdict } from './check.js';
export type {
  Counterexample,
  OperationRef,
  PartialLinearization,
  BlockedOperation,
  LinearizationStep,
} from './counterexample.js';
export { checkHistoryAsync } from './check-async.js';
export { MemoryBudget, defaultMemoryBytesMax } from './memory.js';
export { HistoryWriter, HistoryFormatError, parseHistory, readHistory } from './history.js';
export { detectFormat, loadHistory, HISTORY_FORMATS } from './readers/index.js';
export type { HistoryFormat, LoadedHistory } from './readers/index.js';
export { counterexampleFileName, writeCounterexampleViews } from './view/index.js';
export type * from './history-types.js';
