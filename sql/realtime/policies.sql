-- Invariant 8 for Realtime: only staff of the owning store receive a cart or
-- queue topic. There is deliberately no INSERT policy: no client may send on
-- these topics; the RPCs send from inside the database.
create policy onecart_staff_receive_store_topics on realtime.messages
  for select to authenticated
  using (realtime.messages.extension = 'broadcast' and pos.can_read_topic((select realtime.topic())));
