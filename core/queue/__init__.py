"""The spool: Sendmail-compatible qf/df/tf/hf files, queue ids, locks, durable writes, mailq."""
