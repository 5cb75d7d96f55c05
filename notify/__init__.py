"""Calls the server makes by itself ([notify]): linkage notices to member
units when a case is dispatched, and (later) follow-up calls to citizens.
`core/` is pure; `service/` runs the calls over the AMI; `storage/` keeps the
outbox and every try."""
