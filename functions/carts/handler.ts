// /functions/v1/carts: the cart routes of the contract, one RPC each.
import { z } from "npm:zod@4.6.7";
import type { Json } from "../_shared/database.types.ts";
import { createHandler, noBody, parse, type Route, route, uuid } from "../_shared/http.ts";
import { optionsProblem } from "../_shared/json.ts";

// The limits each value has before it reaches Postgres (the RPCs check the same
// ones for direct calls): a 4xx in onecart's words, never a cast error.
const version = z.number({ error: "expected_version is a whole number" }).int().nonnegative();
const versionInQuery = z.string().regex(/^\d{1,15}$/, { error: "expected_version is a whole number" }).transform(
  Number,
);
const addQuantity = z.number({ error: "quantity is a whole number" }).int().min(1).max(999, {
  error: "quantity is 1 to 999 per call",
});
// Above 9,999 the RPC answers limit_exceeded; only what Postgres's integer cannot hold is refused here.
const lineQuantity = z.number({ error: "quantity is a whole number" }).int().min(0).max(2_147_483_647);
const ttlSeconds = z.number({ error: "ttl_seconds is a whole number" }).int().min(1).max(3600, {
  error: "a lock lasts 1 to 3600 seconds",
});
const cents = z.number({ error: "paid_total_cents is a whole number of cents" }).int().nonnegative();
const deviceId = z.string().min(1).max(200, { error: "a device id is 1 to 200 characters" });
const checkoutRef = z.string().min(1).max(200, { error: "a checkout ref is 1 to 200 characters" });
const options = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  const problem = optionsProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});
const cartId = z.strictObject({ cart_id: uuid });
const itemPath = z.strictObject({ cart_id: uuid, item_id: uuid });

export const routes: Route[] = [
  route({
    method: "POST",
    path: "",
    rpc: "get_or_create_cart",
    args: ({ body }) => {
      const b = parse(
        z.strictObject({
          location_id: uuid,
          customer_id: uuid.nullish(),
          device_id: deviceId.nullish(),
        }),
        body,
      );
      return {
        p_location_id: b.location_id,
        p_customer_id: b.customer_id ?? undefined,
        p_device_id: b.device_id ?? undefined,
      };
    },
  }),
  route({
    method: "GET",
    path: "",
    rpc: "list_open_carts",
    args: ({ query, body }) => {
      parse(noBody, body);
      return { p_location_id: parse(z.strictObject({ location_id: uuid }), query).location_id };
    },
  }),
  route({
    method: "GET",
    path: "/:cart_id",
    rpc: "get_cart",
    args: ({ params }) => ({ p_cart_id: parse(cartId, params).cart_id }),
  }),
  route({
    method: "GET",
    path: "/:cart_id/history",
    rpc: "get_cart_history",
    args: ({ params }) => ({ p_cart_id: parse(cartId, params).cart_id }),
  }),
  route({
    method: "POST",
    path: "/:cart_id/items",
    rpc: "add_item",
    args: ({ params, body, idempotencyKey }) => {
      const b = parse(
        z.strictObject({
          product_id: uuid,
          quantity: addQuantity.optional(),
          options: options.optional(),
          expected_version: version.optional(),
        }),
        body,
      );
      return {
        p_cart_id: parse(cartId, params).cart_id,
        p_product_id: b.product_id,
        p_quantity: b.quantity,
        p_options: b.options as Json | undefined,
        p_expected_version: b.expected_version,
        p_idempotency_key: idempotencyKey ?? undefined,
      };
    },
  }),
  route({
    method: "PATCH",
    path: "/:cart_id/items/:item_id",
    rpc: "set_item_quantity",
    args: ({ params, body, idempotencyKey }) => {
      const p = parse(itemPath, params);
      const b = parse(z.strictObject({ quantity: lineQuantity, expected_version: version.optional() }), body);
      return {
        p_cart_id: p.cart_id,
        p_item_id: p.item_id,
        p_quantity: b.quantity,
        p_expected_version: b.expected_version,
        p_idempotency_key: idempotencyKey ?? undefined,
      };
    },
  }),
  route({
    method: "DELETE",
    path: "/:cart_id/items/:item_id",
    rpc: "remove_item",
    args: ({ params, query, body, idempotencyKey }) => {
      const p = parse(itemPath, params);
      parse(noBody, body);
      const q = parse(z.strictObject({ expected_version: versionInQuery.optional() }), query);
      return {
        p_cart_id: p.cart_id,
        p_item_id: p.item_id,
        p_expected_version: q.expected_version,
        p_idempotency_key: idempotencyKey ?? undefined,
      };
    },
  }),
  route({
    method: "POST",
    path: "/:cart_id/lock",
    rpc: "lock_cart",
    args: ({ params, body, idempotencyKey }) => {
      const b = parse(
        z.strictObject({
          checkout_ref: checkoutRef.nullish(),
          ttl_seconds: ttlSeconds.optional(),
          expected_version: version.optional(),
        }).optional(),
        body,
      ) ?? {};
      return {
        p_cart_id: parse(cartId, params).cart_id,
        p_checkout_ref: b.checkout_ref ?? undefined,
        p_ttl_seconds: b.ttl_seconds,
        p_expected_version: b.expected_version,
        p_idempotency_key: idempotencyKey ?? undefined,
      };
    },
  }),
  route({
    method: "PATCH",
    path: "/:cart_id/lock",
    rpc: "update_cart_lock",
    args: ({ params, body, idempotencyKey }) => {
      const b = parse(
        z.strictObject({
          lock_token: uuid,
          checkout_ref: checkoutRef,
          expected_version: version.optional(),
        }),
        body,
      );
      return {
        p_cart_id: parse(cartId, params).cart_id,
        p_lock_token: b.lock_token,
        p_checkout_ref: b.checkout_ref,
        p_expected_version: b.expected_version,
        p_idempotency_key: idempotencyKey ?? undefined,
      };
    },
  }),
  route({
    method: "DELETE",
    path: "/:cart_id/lock",
    rpc: "unlock_cart",
    args: ({ params, body, idempotencyKey }) => {
      const b = parse(z.strictObject({ lock_token: uuid, expected_version: version.optional() }), body);
      return {
        p_cart_id: parse(cartId, params).cart_id,
        p_lock_token: b.lock_token,
        p_expected_version: b.expected_version,
        p_idempotency_key: idempotencyKey ?? undefined,
      };
    },
  }),
  route({
    method: "POST",
    path: "/:cart_id/checkout",
    rpc: "complete_checkout",
    args: ({ params, body, idempotencyKey }) => {
      const b = parse(
        z.strictObject({
          lock_token: uuid,
          checkout_ref: checkoutRef,
          paid_total_cents: cents,
          expected_version: version.optional(),
        }),
        body,
      );
      return {
        p_cart_id: parse(cartId, params).cart_id,
        p_lock_token: b.lock_token,
        p_checkout_ref: b.checkout_ref,
        p_paid_total_cents: b.paid_total_cents,
        p_expected_version: b.expected_version,
        p_idempotency_key: idempotencyKey ?? undefined,
      };
    },
  }),
];

export default createHandler("carts", routes);
