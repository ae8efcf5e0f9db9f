"""The Customer aggregate: registration (its email claimed, unique case-insensitively), profile,
addresses with defaults, segment, consent per channel, blocking and the right to be forgotten.

``commands`` holds its commands, ``events`` its events (personal fields encrypted per customer),
``state`` its decision state and evolution, ``decide`` the decisions, ``contact`` the rules an
email, a phone number and a name follow, ``segments`` the vocabulary of segments, ``email_claim``
the stream that makes an email unique."""
