// /functions/v1/carts: the cart routes of the contract, one RPC each.
import { z } from "npm:zod@4.6.7";
import { createHandler, noBody, parse, type Route, uuid } from "../_shared/http.ts";

const version = z.number().int().nonnegative();
const cartId = z.strictObject({ cart_id: uuid });
const itemPath = z.strictObject({ cart_id: uuid, item_id: uuid });

export const routes: Route[] = [
  {
    method: "POST", path: "", rpc: "get_or_create_cart",
    args: ({ body }) => {
      const b = parse(z.strictObject({
        location_id: uuid, customer_id: uuid.nullish(), device_id: z.string().nullish(),
      }), body);
      return { p_location_id: b.location_id, p_customer_id: b.customer_id, p_device_id: b.device_id };
    },
  },
  {
    method: "GET", path: "", rpc: "list_open_carts",
    args: ({ query, body }) => {
      parse(noBody, body);
      return { p_location_id: parse(z.strictObject({ location_id: uuid }), query).location_id };
    },
  },
  {
    method: "GET", path: "/:cart_id", rpc: "get_cart",
    args: ({ params }) => ({ p_cart_id: parse(cartId, params).cart_id }),
  },
  {
    method: "GET", path: "/:cart_id/history", rpc: "get_cart_history",
    args: ({ params }) => ({ p_cart_id: parse(cartId, params).cart_id }),
  },
  {
    method: "POST", path: "/:cart_id/items", rpc: "add_item",
    args: ({ params, body, idempotencyKey }) => {
      const b = parse(z.strictObject({
        product_id: uuid, quantity: z.number().int().optional(), options: z.record(z.string(), z.unknown()).optional(),
        expected_version: version.optional(),
      }), body);
      return {
        p_cart_id: parse(cartId, params).cart_id, p_product_id: b.product_id, p_quantity: b.quantity,
        p_options: b.options, p_expected_version: b.expected_version, p_idempotency_key: idempotencyKey,
      };
    },
  },
  {
    method: "PATCH", path: "/:cart_id/items/:item_id", rpc: "set_item_quantity",
    args: ({ params, body, idempotencyKey }) => {
      const p = parse(itemPath, params);
      const b = parse(z.strictObject({ quantity: z.number().int(), expected_version: version.optional() }), body);
      return {
        p_cart_id: p.cart_id, p_item_id: p.item_id, p_quantity: b.quantity,
        p_expected_version: b.expected_version, p_idempotency_key: idempotencyKey,
      };
    },
  },
  {
    method: "DELETE", path: "/:cart_id/items/:item_id", rpc: "remove_item",
    args: ({ params, query, body, idempotencyKey }) => {
      const p = parse(itemPath, params);
      parse(noBody, body);
      const q = parse(z.strictObject({ expected_version: z.coerce.number().int().nonnegative().optional() }), query);
      return {
        p_cart_id: p.cart_id, p_item_id: p.item_id, p_expected_version: q.expected_version,
        p_idempotency_key: idempotencyKey,
      };
    },
  },
  {
    method: "POST", path: "/:cart_id/lock", rpc: "lock_cart",
    args: ({ params, body, idempotencyKey }) => {
      const b = parse(z.strictObject({
        checkout_ref: z.string().nullish(), ttl_seconds: z.number().int().optional(),
        expected_version: version.optional(),
      }).optional(), body) ?? {};
      return {
        p_cart_id: parse(cartId, params).cart_id, p_checkout_ref: b.checkout_ref, p_ttl_seconds: b.ttl_seconds,
        p_expected_version: b.expected_version, p_idempotency_key: idempotencyKey,
      };
    },
  },
  {
    method: "PATCH", path: "/:cart_id/lock", rpc: "update_cart_lock",
    args: ({ params, body, idempotencyKey }) => {
      const b = parse(z.strictObject({
        lock_token: uuid, checkout_ref: z.string(), expected_version: version.optional(),
      }), body);
      return {
        p_cart_id: parse(cartId, params).cart_id, p_lock_token: b.lock_token, p_checkout_ref: b.checkout_ref,
        p_expected_version: b.expected_version, p_idempotency_key: idempotencyKey,
      };
    },
  },
  {
    method: "DELETE", path: "/:cart_id/lock", rpc: "unlock_cart",
    args: ({ params, body, idempotencyKey }) => {
      const b = parse(z.strictObject({ lock_token: uuid, expected_version: version.optional() }), body);
      return {
        p_cart_id: parse(cartId, params).cart_id, p_lock_token: b.lock_token, p_expected_version: b.expected_version,
        p_idempotency_key: idempotencyKey,
      };
    },
  },
  {
    method: "POST", path: "/:cart_id/checkout", rpc: "complete_checkout",
    args: ({ params, body, idempotencyKey }) => {
      const b = parse(z.strictObject({
        lock_token: uuid, checkout_ref: z.string(), paid_total_cents: z.number().int(),
        expected_version: version.optional(),
      }), body);
      return {
        p_cart_id: parse(cartId, params).cart_id, p_lock_token: b.lock_token, p_checkout_ref: b.checkout_ref,
        p_paid_total_cents: b.paid_total_cents, p_expected_version: b.expected_version,
        p_idempotency_key: idempotencyKey,
      };
    },
  },
];

export default createHandler("carts", routes);
