"""The Ticket aggregate: a customer's support request, its conversation and its life
(open → pending_customer | resolved; pending_customer → open; resolved → closed | open).

``events`` holds its events, ``state`` its decision state and evolution, ``commands`` its
commands, ``decide`` the decisions (time arrives as ``now``), ``sla`` the first-response
deadlines and the breach rule, ``messages`` the rules a message's text follows (shared with
chats)."""
