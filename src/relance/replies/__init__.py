"""Customers' replies and bounces: the organisation's mailbox read over IMAP, each message stored
once, attached to its customer and reminder, classified, and its effect on the sequence applied or
proposed to a person (issue 15)."""
