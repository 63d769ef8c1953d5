// /functions/v1/queue: the queue routes of the contract, one RPC each.
import { z } from "npm:zod@4.6.7";
import { createHandler, noBody, parse, type Route, route, uuid } from "../_shared/http.ts";

const entryId = z.strictObject({ entry_id: uuid });
const location = z.strictObject({ location_id: uuid });

export const routes: Route[] = [
  route({
    method: "POST",
    path: "",
    rpc: "add_to_queue",
    args: ({ body, idempotencyKey }) => {
      const b = parse(z.strictObject({ location_id: uuid, customer_id: uuid }), body);
      return {
        p_location_id: b.location_id,
        p_customer_id: b.customer_id,
        p_idempotency_key: idempotencyKey ?? undefined,
      };
    },
  }),
  route({
    method: "GET",
    path: "",
    rpc: "get_queue",
    args: ({ query, body }) => {
      parse(noBody, body);
      return { p_location_id: parse(location, query).location_id };
    },
  }),
  route({
    method: "POST",
    path: "/next",
    rpc: "call_next",
    emptyStatus: 204,
    args: ({ body, idempotencyKey }) => ({
      p_location_id: parse(location, body).location_id,
      p_idempotency_key: idempotencyKey ?? undefined,
    }),
  }),
  route({
    method: "POST",
    path: "/:entry_id/complete",
    rpc: "complete_queue_entry",
    args: ({ params, body }) => {
      parse(noBody, body);
      return { p_entry_id: parse(entryId, params).entry_id };
    },
  }),
  route({
    method: "DELETE",
    path: "/:entry_id",
    rpc: "leave_queue",
    args: ({ params, body }) => {
      parse(noBody, body);
      return { p_entry_id: parse(entryId, params).entry_id };
    },
  }),
];

export default createHandler("queue", routes);
