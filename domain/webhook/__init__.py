"""The Webhook aggregate: a subscription of an HTTP endpoint to event types of the log, its
secret's generations and its deletion. Pure: the handlers (``commands/webhooks.py``) bring
the new id, the clock and the URL's resolution."""
