-- Invariant 8 for Realtime: only staff of the owning store receive a cart or
-- queue topic, and no client sends on one; the RPCs send from inside the
-- database, as the owner, which row security does not restrict.
create policy onecart_staff_receive_store_topics on realtime.messages
  for select to authenticated
  using (realtime.messages.extension = 'broadcast' and pos.can_read_topic((select realtime.topic())));

-- Policies on realtime.messages are shared by every feature of a project, and
-- permissive ones add up: one "authenticated may read every topic" elsewhere
-- would open every cart. These restrictive ones hold onecart's topics (cart:,
-- queue:) to the rule above whatever else a project allows.
create policy onecart_topics_only_for_store_staff on realtime.messages
  as restrictive for select to authenticated
  using (realtime.messages.topic !~ '^(cart|queue):' or pos.can_read_topic(realtime.messages.topic));
create policy onecart_topics_never_for_anon on realtime.messages
  as restrictive for select to anon
  using (realtime.messages.topic !~ '^(cart|queue):');
create policy onecart_topics_never_client_sent on realtime.messages
  as restrictive for insert to anon, authenticated
  with check (realtime.messages.topic !~ '^(cart|queue):');
