// @onecart/client: the POS client library for onecart.
export { CartStore, createOnecart, Onecart, QueueStore } from "./client.ts";
export type {
  ActionHandle,
  CartState,
  LiveStatus,
  OnecartOptions,
  PendingAction,
  QueueState,
  Rejection,
} from "./client.ts";
export { createApi } from "./api.ts";
export { createCaller } from "./transport.ts";
export type { Caller } from "./transport.ts";
export { operationOf, OPERATIONS } from "./contract.ts";
export type { ArgPlace, Operation, OperationName } from "./contract.ts";
export type { ApiMethod, CallOptions, OnecartApi } from "./api.ts";
export { CLIENT_ERROR_CODES, CONTRACT_ERROR_STATUS, OnecartError } from "./errors.ts";
export type { ClientErrorCode, ContractErrorCode, ErrorCode } from "./errors.ts";
export { applyOptimistic, canonical } from "./actions.ts";
export type { Action, ActionKind, CartAction, ItemOptions, LineRef, QueueAction } from "./actions.ts";
export { indexedDbStorage, memoryStorage, SNAPSHOT_FORMAT } from "./storage.ts";
export { OUTBOX_FORMAT } from "./outbox.ts";
export type { Coordination } from "./presence.ts";
export type { KeyValueStorage } from "./storage.ts";
export type * from "./types.ts";
