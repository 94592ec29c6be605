"""Two-way email on the customer timeline (issue 26).

- Inbound: `services.inbound_handle` is the last inbound handler (crm/inbound.py, order 100). It
  matches the sender and recipients to contacts by address, threads the message with earlier
  mail (Message-ID / In-Reply-To / References) and stores it as an inbound email interaction per
  matched contact, with its attachments in private storage. What it does not take stays in
  crm's "unmatched mail" queue (`views.unmatched_list`), where a user attaches it to a contact.
- Outbound: the composer on the contact page writes an outbound email interaction with status
  "queued" and its own Message-ID; `tasks.mail_send` sends it after commit (crm.outbox), claimed
  by a conditional update so it is sent at most once, retried on TransientError.
"""
