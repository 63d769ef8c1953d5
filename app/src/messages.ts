// What a person at the till reads when the server refuses an action: by the
// contract's code, never by message text.
import { OnecartError, type Rejection } from "@onecart/client";

const BY_CODE: Record<string, string> = {
  cart_locked: "This cart is locked for checkout on another device, so the change was not made.",
  cart_closed: "This cart is already closed (paid, abandoned or merged), so the change was not made.",
  version_conflict: "The cart changed on another device first. Check it and try again.",
  not_found: "That is no longer there. The screen has been refreshed.",
  limit_exceeded: "That is more than a cart can hold (9,999 of a line, 200 lines).",
  cart_empty: "The cart is empty.",
  total_mismatch: "The paid total does not match the cart's locked total.",
  cart_changed: "The cart changed after its checkout lock expired. Refund the payment or take it again.",
  lock_mismatch: "This checkout's lock is no longer valid.",
  invalid_input: "That request was not valid.",
  busy: "The cart is busy on another device; the change will be retried.",
  unavailable: "onecart cannot be reached right now; the change will be retried.",
  network_error: "The network did not answer in time; the change was not confirmed.",
  not_authenticated: "Your session has ended. Sign in again.",
  forbidden: "Your role may not do that.",
  expired: "It waited over a day without network, so it was not sent on its own: send it anyway or drop it.",
  server_error: "onecart could not do it right now; the change was not made.",
};

const WHAT: Record<string, string> = {
  add_item: "Adding an item",
  set_item_quantity: "Changing a quantity",
  remove_item: "Removing a line",
  lock_cart: "Starting checkout",
  update_cart_lock: "Recording the payment",
  unlock_cart: "Cancelling checkout",
  complete_checkout: "Completing checkout",
  add_to_queue: "Adding to the queue",
  call_next: "Calling the next customer",
  complete_queue_entry: "Completing a visit",
  leave_queue: "Removing from the queue",
};

export function explain(code: string): string {
  return BY_CODE[code] ?? "Something went wrong; the change was not made.";
}

export function rejectionText(rejection: Rejection): string {
  return `${WHAT[rejection.action.kind] ?? "That action"} failed: ${explain(rejection.error.code)}`;
}

export function codeOf(error: unknown): string {
  return error instanceof OnecartError ? error.code : "network_error";
}
